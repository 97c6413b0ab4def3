package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it at cleanup (after the processes the test started are gone).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a small tmpfs to fill it: run the tests as root (CI does)")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	// Registered first, so it runs after the cleanups that kill processes.
	t.Cleanup(func() {
		for range 50 {
			if err := syscall.Unmount(dir, 0); err == nil || errors.Is(err, syscall.EINVAL) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("unmount %s failed", dir)
	})
	return dir
}

// freeBytes is what an unprivileged writer may still write to dir's file system.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fill writes a filler file into dir until only leave bytes are free (or
// the file system refuses more), and returns its path.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for free := freeBytes(t, dir); free > leave; free = freeBytes(t, dir) {
		n := min(int64(len(buf)), free-leave)
		if _, err := f.Write(buf[:n]); err != nil {
			break // full
		}
	}
	return path
}

// execCollector runs a pantau-collector command (not serve) as a process.
func execCollector(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit within 2 minutes:\n%s", bin, args, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// getText GETs base+path and returns the status and body.
func getText(t *testing.T, base, path string) (int, string) {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricValue returns the value of the sample line of /metrics that starts
// with series (a name with its labels exactly as printed), or -1.
func metricValue(body, series string) float64 {
	for l := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// ackedSamples tracks the samples of acknowledged writes, to find them again.
type ackedSamples struct {
	want map[string][]rawSample // series id (sorted labels) -> samples
	n    int
}

func (a *ackedSamples) add(id string, ts int64, v string) {
	if a.want == nil {
		a.want = map[string][]rawSample{}
	}
	a.want[id] = append(a.want[id], rawSample{T: ts, V: v})
	a.n++
}

// missing compares with what the collector at base answers for the
// given metric selectors and returns how many acknowledged samples it does
// not have, with a few examples.
func (a *ackedSamples) missing(t *testing.T, base string, at time.Time, rng time.Duration, selectors ...string) (int, []string) {
	t.Helper()
	got := map[string][]rawSample{}
	for _, sel := range selectors {
		for id, s := range rawSeries(t, base, sel, at, rng, "agent") {
			got[id] = append(got[id], s...)
		}
	}
	n := 0
	var ex []string
	for id, want := range a.want {
		have := got[id]
		for _, w := range want {
			if !slices.ContainsFunc(have, func(s rawSample) bool { return s.T == w.T && s.V == w.V }) {
				n++
				if len(ex) < 5 {
					ex = append(ex, fmt.Sprintf("%s @%d=%s", id, w.T, w.V))
				}
			}
		}
	}
	return n, ex
}

// post sends body to the write API with a batch id and returns the status
// and the Retry-After header.
func post(ctx context.Context, base, tok, batch string, body []byte) (int, string, error) {
	return postWith(ctx, base+"/api/v2/write?precision=ms", tok, batch, body)
}

func postWith(ctx context.Context, url, tok, batch string, body []byte) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Token "+tok)
	if batch != "" {
		req.Header.Set("Pantau-Batch", batch)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After"), nil
}

func httpStatus(url string) (int, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
