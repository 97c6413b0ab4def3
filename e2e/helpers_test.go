package e2e

import (
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// labCollector creates a token with `token create tokenArgs...`, starts
// `serve serveArgs...` (listening on 10.250.1.1:9810) in namespace ns and
// waits until it is ready; it returns the token, a client that dials from
// ns, and the collector's base URL.
func labCollector(t *testing.T, l *lab.Lab, ns, colBin string, tokenArgs []string, serveArgs ...string) (string, *http.Client, string) {
	t.Helper()
	tok, err := exec.Command(colBin, append([]string{"token", "create"}, tokenArgs...)...).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	// The tests read with a viewer token of the same data directory.
	var where []string
	for i := 0; i+1 < len(tokenArgs); i++ {
		if tokenArgs[i] == "--data-dir" || tokenArgs[i] == "--config" {
			where = append(where, tokenArgs[i], tokenArgs[i+1])
		}
	}
	viewer, err := exec.Command(colBin, append(append([]string{"token", "create"}, where...), "--name", "lab-reader", "--role", "viewer")...).Output()
	if err != nil {
		t.Fatalf("token create (viewer): %v", err)
	}
	l.Start(ns, append(append([]string{colBin, "serve"}, serveArgs...), "--log.level", "warn")...)
	client := lab.HTTPClient(ns)
	client.Transport = testproc.Bearer(strings.TrimSpace(string(viewer)), client.Transport)
	base := "http://10.250.1.1:9810"
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatal("collector did not become ready")
	}
	return strings.TrimSpace(string(tok)), client, base
}

// samples returns the timestamps (unix ms) of every sample of the series
// selected by sel in the last 3 hours, asked from inside the lab.
func samples(t *testing.T, c *http.Client, base, sel string) []int64 {
	t.Helper()
	var ts []int64
	for _, r := range rounds(t, c, base, sel, math.MinInt64) {
		ts = append(ts, r.ms)
	}
	return ts
}

// round is one ICMP round read back: its time (unix ms) and up value.
type round struct {
	ms int64
	up float64
}

// rounds returns the samples of the series selected by sel in the last 3
// hours since a time (unix ms), in time order, asked from inside the lab.
func rounds(t *testing.T, c *http.Client, base, sel string, since int64) []round {
	t.Helper()
	q := url.Values{"query": {sel + "[3h]"}, "time": {strconv.FormatInt(time.Now().Unix()+5, 10)}}
	resp, err := c.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatalf("query collector: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query collector: %v", err)
	}
	var out []round
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			ms := int64(v[0].(float64)*1000 + 0.5)
			up, _ := strconv.ParseFloat(v[1].(string), 64)
			if ms >= since {
				out = append(out, round{ms, up})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ms < out[j].ms })
	return out
}

// metrics returns the collector's /metrics samples by series
// (name{labels} as exposed), asked from inside the lab.
func metrics(t *testing.T, c *http.Client, base string) map[string]float64 {
	t.Helper()
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("collector metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("collector metrics: %v", err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); i > 0 && err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// serveIn serves h on addr inside the namespace ns (a notification sink
// the collector in the lab reaches) until the test ends.
func serveIn(t *testing.T, ns, addr string, h http.Handler) {
	t.Helper()
	var ln net.Listener
	if err := lab.InNamespace(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
}
