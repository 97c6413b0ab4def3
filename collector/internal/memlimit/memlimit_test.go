package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAutoMemoryLimit reads a fake /proc and /sys: the smallest
// memory.max on the process's cgroup path when it is below the machine's
// memory, else half the machine's memory.
func TestAutoMemoryLimit(t *testing.T) {
	write := func(root, name, data string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meminfo := "MemTotal:        8000000 kB\nMemFree:         100 kB\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 service limit", map[string]string{
			"proc/self/cgroup": "0::/system.slice/pantau-collector.service\n",
			"sys/fs/cgroup/system.slice/pantau-collector.service/memory.max": "1073741824\n",
			"sys/fs/cgroup/system.slice/memory.max":                          "max\n",
		}, 1073741824 * 8 / 10},
		{"v2 parent limit smaller", map[string]string{
			"proc/self/cgroup":             "0::/a/b\n",
			"sys/fs/cgroup/a/b/memory.max": "max\n",
			"sys/fs/cgroup/a/memory.max":   "536870912\n",
		}, 536870912 * 8 / 10},
		{"v2 no limit", map[string]string{
			"proc/self/cgroup":                    "0::/user.slice\n",
			"sys/fs/cgroup/user.slice/memory.max": "max\n",
		}, 8000000 * 1024 / 2},
		{"v1 unlimited", map[string]string{
			"proc/self/cgroup": "12:memory:/docker/x\n3:cpu:/\n",
			"sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes": "9223372036854771712\n",
		}, 8000000 * 1024 / 2},
		{"v1 limit", map[string]string{
			"proc/self/cgroup": "12:memory:/docker/x\n",
			"sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes": "2147483648\n",
		}, 2147483648 * 8 / 10},
		{"limit above the machine", map[string]string{
			"proc/self/cgroup":           "0::/x\n",
			"sys/fs/cgroup/x/memory.max": "99999999999999\n",
		}, 8000000 * 1024 / 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			write(root, "proc/meminfo", meminfo)
			for name, data := range c.files {
				write(root, name, data)
			}
			if got, from := autoMemoryLimit(root); got != c.want {
				t.Errorf("limit %d (%s), want %d", got, from, c.want)
			}
		})
	}
	if got, _ := autoMemoryLimit(t.TempDir()); got != 0 {
		t.Errorf("nothing readable: %d, want 0", got)
	}
}
