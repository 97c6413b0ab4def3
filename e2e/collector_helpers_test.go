package e2e

// Helpers of the collector's end-to-end tests (collector_*_test.go): they
// run pantau-collector (internal/testbuild) as processes on loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// slaTestInventory is the one-link inventory of the collector's tests.
const slaTestInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, sla_target: 99.5}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}, snmp: {device: rtr-dinkes, interface: ether1}}
`

// writeFile writes data to path (0600) and returns path.
func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenCreate runs `bin token create args...` and returns the token.
func tokenCreate(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"token", "create"}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("token create %v: %v: %s", args, err, ee.Stderr)
		}
		t.Fatalf("token create %v: %v", args, err)
	}
	tok := strings.TrimSpace(string(out))
	if !strings.HasPrefix(tok, "pantau_") {
		t.Fatalf("token create printed %q", out)
	}
	return tok
}

// runCollector runs a pantau-collector command (not serve) as a process
// and returns its exit code, stdout and stderr.
func runCollector(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not exit within 2 minutes:\n%s%s", bin, args, out.String(), errOut.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// colReport is what the tests read of the collector's report JSON
// (collector/internal/report.Report).
type colReport struct {
	Links    []colLinkRow `json:"links"`
	Capacity []struct {
		Samples int     `json:"samples"`
		MeanBps float64 `json:"mean_bps"`
	} `json:"capacity"`
	Summary struct {
		LinksWithData    int `json:"links_with_data"`
		Services         int `json:"services"`
		ServicesWithData int `json:"services_with_data"`
	} `json:"summary"`
	Coverage struct {
		OPDTotal     int `json:"opd_total"`
		OPDMonitored int `json:"opd_monitored"`
	} `json:"coverage"`
	Assets []json.RawMessage `json:"assets"`
}

// colLinkRow is a link's row of the report: its minutes by state.
type colLinkRow struct {
	Link       string  `json:"link"`
	Up         float64 `json:"up"`
	Degraded   float64 `json:"degraded"`
	Down       float64 `json:"down"`
	NoData     float64 `json:"nodata"`
	Monitoring float64 `json:"monitoring"`
	Outages    int     `json:"outages"`
}

// rawSample is one stored sample as a query API returns it.
type rawSample struct {
	T int64  // ms
	V string // as the API prints it
}

// rawSeries reads the raw samples of selector in (at-rng, at] from a
// Prometheus-compatible query API, keyed by the series' labels without
// the ones in drop.
func rawSeries(t *testing.T, base, selector string, at time.Time, rng time.Duration, drop ...string) map[string][]rawSample {
	t.Helper()
	q := url.Values{"query": {fmt.Sprintf("%s[%dms]", selector, rng.Milliseconds())}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1e3)}}
	res, err := get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var r struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s on %s: %v %s", q.Get("query"), base, err, body)
	}
	out := map[string][]rawSample{}
	for _, s := range r.Data.Result {
		var keys []string
		for k, v := range s.Metric {
			if !slices.Contains(drop, k) {
				keys = append(keys, k+"="+v)
			}
		}
		slices.Sort(keys)
		id := strings.Join(keys, ",")
		for _, p := range s.Values {
			var ts json.Number
			var v string
			json.Unmarshal(p[0], &ts)
			json.Unmarshal(p[1], &v)
			f, _ := ts.Float64()
			out[id] = append(out[id], rawSample{T: int64(f*1000 + 0.5), V: v})
		}
	}
	return out
}

func sampleCount(m map[string][]rawSample) int {
	n := 0
	for _, s := range m {
		n += len(s)
	}
	return n
}

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

// readTokens are the credentials the helpers read with, by base URL
// ("http://host:port"); a collector started with --auth.anonymous viewer
// needs none.
var readTokens sync.Map

// readWith makes the helpers read base with token.
func readWith(base, token string) { readTokens.Store(base, token) }

// get GETs u, with the read token of its collector if there is one.
func get(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if pu, err := url.Parse(u); err == nil {
		if tok, ok := readTokens.Load(pu.Scheme + "://" + pu.Host); ok {
			req.Header.Set("Authorization", "Bearer "+tok.(string))
		}
	}
	return http.DefaultClient.Do(req)
}

// getText GETs base+path and returns the status and body.
func getText(t *testing.T, base, path string) (int, string) {
	t.Helper()
	res, err := get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
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
	res, err := get(url)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// getReport GETs base's report API for period and decodes it.
func getReport(t *testing.T, base, period string) colReport {
	t.Helper()
	code, js := getText(t, base, "/api/v1/report?format=json&period="+period)
	if code != 200 {
		t.Fatalf("report %s from %s: %d %s", period, base, code, js)
	}
	var r colReport
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, js)
	}
	return r
}
