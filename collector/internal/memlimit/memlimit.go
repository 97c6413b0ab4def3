// Package memlimit sets the collector's Go soft memory limit from
// GOMEMLIMIT, limits.memory_limit or the cgroup's and machine's memory.
package memlimit

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// Set sets the Go runtime's soft memory limit: GOMEMLIMIT when
// set (the runtime read it at start), else limits.memory_limit, else a
// fraction of the cgroup's memory.max or of the machine's memory. The GC
// then works harder as the heap nears the limit instead of letting
// garbage from bursts (large bodies, decompression) pile up. It returns a
// function that restores the previous limit.
func Set(configured int64, log *slog.Logger) (restore func()) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		log.Info("soft memory limit from GOMEMLIMIT", "GOMEMLIMIT", v)
		return func() {}
	}
	limit, source := configured, "limits.memory_limit"
	if limit == 0 {
		limit, source = autoMemoryLimit("/")
	}
	if limit <= 0 {
		log.Warn("no soft memory limit: the machine's memory is unknown; set limits.memory_limit")
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	log.Info("soft memory limit set", "bytes", limit, "from", source)
	return func() { debug.SetMemoryLimit(prev) }
}

// autoMemoryLimit is the default limit under root ("/" but in tests):
// MemoryLimitFractionCgroup of the smallest memory.max of the process's
// cgroup and its parents, else MemoryLimitFractionHost of MemTotal.
func autoMemoryLimit(root string) (int64, string) {
	total := memTotal(filepath.Join(root, "proc/meminfo"))
	if m := cgroupMemoryMax(root); m > 0 && (total == 0 || m < total) {
		return int64(float64(m) * config.MemoryLimitFractionCgroup), "80 % of the cgroup's memory.max"
	}
	if total > 0 {
		return int64(float64(total) * config.MemoryLimitFractionHost), "50 % of the machine's memory (MemTotal)"
	}
	return 0, ""
}

// memTotal reads MemTotal from a /proc/meminfo; 0 when unknown.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupMemoryMax is the smallest memory limit on the process's cgroup
// path (cgroup v2 memory.max, or v1 memory.limit_in_bytes); 0 for none.
func cgroupMemoryMax(root string) int64 {
	data, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0
	}
	var best int64
	consider := func(file string) {
		b, err := os.ReadFile(file)
		if err != nil {
			return
		}
		v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<62 { // "max", or v1's "unlimited"
			return
		}
		if best == 0 || v < best {
			best = v
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var base, file string
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			base, file = filepath.Join(root, "sys/fs/cgroup"), "memory.max"
		case strings.Contains(","+parts[1]+",", ",memory,"): // v1
			base, file = filepath.Join(root, "sys/fs/cgroup/memory"), "memory.limit_in_bytes"
		default:
			continue
		}
		// the process's cgroup and each parent up to the mount point
		for p := filepath.Clean("/" + parts[2]); ; p = filepath.Dir(p) {
			consider(filepath.Join(base, p, file))
			if p == "/" {
				break
			}
		}
	}
	return best
}
