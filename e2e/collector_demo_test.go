package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationDemo runs the demo as `make demo` does, with a real
// pantau-agent polling the simulated routers and checking the services:
// live data from the agent and the simulated sites arrives within a
// minute, the SLA states are queryable, and Ctrl-C stops the demo and its
// agent cleanly. Then it reopens the data and checks the history and the
// report.
func TestIntegrationDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test (the demo, with the agent and plugin binaries)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	agentBin := testbuild.Agent(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	out, errOut := &lab.SyncBuffer{}, &lab.SyncBuffer{}
	demo := exec.Command(bin, "demo", "--listen-address", addr, "--data-dir", dir, "--interval", "2s", "--history", "30m", "--agent", agentBin)
	demo.Stdout, demo.Stderr = out, errOut
	demo.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if demo.ProcessState == nil {
			demo.Process.Kill()
			demo.Wait()
		}
	})
	done := make(chan int, 1)
	go func() { demo.Wait(); done <- demo.ProcessState.ExitCode() }()

	// The tests read as the README says: with the viewer token the demo
	// prints (none until it has printed it: queries fail until then).
	viewer := func() string {
		m := regexp.MustCompile(`Viewer token: (pantau_\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			return ""
		}
		return m[1]
	}
	cli, err := api.NewClient(api.Config{Address: "http://" + addr, RoundTripper: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if tok := viewer(); tok != "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return http.DefaultTransport.RoundTrip(r)
	})})
	if err != nil {
		t.Fatal(err)
	}
	prom := promv1.NewAPI(cli)
	var lastErr error
	// count returns how many series q gives now (-1 on an error, kept in
	// lastErr).
	count := func(q string) int {
		v, _, _, err := prom.Query(context.Background(), q, time.Now())
		if err != nil {
			lastErr = err
			return -1
		}
		vec, _ := v.(model.Vector)
		return len(vec)
	}
	live := map[string]int{
		// the agent polls all 6 routers: 3 interfaces each, with rates
		`pantau_snmp_if_receive_bits_per_second{agent="agent-noc"} and timestamp(pantau_snmp_if_receive_bits_per_second) > ` + strconv.FormatInt(start.Unix(), 10): 18,
		`pantau_snmp_device_cpu_load_ratio{agent="agent-noc"} and timestamp(pantau_snmp_device_cpu_load_ratio) > ` + strconv.FormatInt(start.Unix(), 10):           6,
		// the bundled plugins check the services
		`pantau_http_up{agent="agent-noc"} and timestamp(pantau_http_up) > ` + strconv.FormatInt(start.Unix(), 10): 2,
		`pantau_tcp_up{agent="agent-noc",target="mail"} == 1`:                                                      1,
		// over HTTPS with a certificate that expires in 25 days
		`pantau_http_tls_cert_expiry_seconds{target="portal"} > 24*86400 and timestamp(pantau_http_tls_cert_expiry_seconds) > ` + strconv.FormatInt(start.Unix(), 10): 1,
		// a target the plugin refuses
		`pantau_plugin_ok{plugin="http",target="sipd-lama"} == 0 and timestamp(pantau_plugin_ok) > ` + strconv.FormatInt(start.Unix(), 10): 1,
		// inventory labels on the service checks
		`pantau_http_up{service="portal",opd="diskominfo",site="noc-kominfo"}`: 1,
		// the simulated sites' agents
		`pantau_icmp_up and timestamp(pantau_icmp_up) > ` + strconv.FormatInt(start.Unix(), 10): 6,
		// the collector's own states, stored in its TSDB
		`pantau_link_state == 1`:    6,
		`pantau_site_state == 1`:    7,
		`pantau_service_state == 1`: 3,
		// alerting runs (the default rules, to the demo's webhook)
		`pantau_alerts{state="firing"}`: 15, // the 14 default rules (fleet, radio and UPS kinds included) and NotifierFailing
		// and its ingest metrics, histograms included
		`pantau_collector_ingest_request_duration_seconds_count{api="v2"}`:            1,
		`pantau_collector_ingest_request_duration_seconds_bucket{api="v2",le="+Inf"}`: 1,
		// the agent's own heartbeat
		`pantau_agent_uptime_seconds{agent="agent-noc",site="noc-kominfo",version!="demo"}`: 1,
	}
	var missing []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing = missing[:0]
		for q, want := range live {
			if n := count(q); n != want {
				missing = append(missing, fmt.Sprintf("%s: %d series, want %d", q, n, want))
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		agentLog, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
		t.Errorf("within a minute of the start (last query error: %v):\n%s\ndemo output:\n%s%s\nagent log:\n%s", lastErr, strings.Join(missing, "\n"), out.String(), errOut.String(), agentLog)
	}
	if !strings.Contains(out.String(), "Grafana data source:     type Prometheus, URL http://"+addr) {
		t.Errorf("demo did not say where to point Grafana:\n%s", out.String())
	}
	// The web UI, with the admin password the demo printed.
	if m := regexp.MustCompile(`Web UI: +(http://\S+/ui/) +\(log in as admin / (\S+), or as the Dinas Kesehatan viewer dinkes / (\S+)\)`).
		FindStringSubmatch(out.String()); m == nil {
		t.Errorf("demo did not print the web UI's address and users:\n%s", out.String())
	} else {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.PostForm(m[1]+"masuk", url.Values{"name": {"dinkes"}, "password": {m[3]}, "next": {"/ui/"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/ui/" || !strings.Contains(string(body), "<strong>dinkes</strong>") {
			t.Errorf("logging in to the demo's web UI as dinkes: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
	}
	m := regexp.MustCompile(`NOC agent: \S+ \(pid (\d+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("demo did not start its agent:\n%s", out.String())
	}
	pid, _ := strconv.Atoi(m[1])

	// Ctrl-C: the demo stops, and its agent with it
	stopAt := time.Now()
	demo.Process.Signal(os.Interrupt)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exit %d after Ctrl-C: %s", code, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not stop within 60 s of Ctrl-C")
	}
	t.Logf("stopped in %s", time.Since(stopAt).Round(time.Millisecond))
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the demo's agent (pid %d) still runs after the demo stopped", pid)
	}

	addr2 := testproc.FreePort(t)
	cfg := writeFile(t, filepath.Join(t.TempDir(), "collector.yml"), fmt.Sprintf("data_dir: %s\ninventory: %s\n", dir, filepath.Join(dir, "inventory.yml")))
	testproc.Start(t, bin, addr2, "--config", cfg, "--listen-address", addr2)
	// The demo's viewer token outlives the demo: it is in state.db.
	cli2, err := api.NewClient(api.Config{Address: "http://" + addr2, RoundTripper: testproc.Bearer(viewer(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	query := func(q string, at time.Time) model.Vector {
		t.Helper()
		v, _, _, err := promv1.NewAPI(cli2).Query(context.Background(), q, at)
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		vec, _ := v.(model.Vector)
		return vec
	}
	now := time.Now()
	for q, want := range map[string]int{
		`count(count_over_time(pantau_icmp_up[40m]))`:                     6,
		`count(count_over_time(pantau_snmp_if_receive_bytes_total[40m]))`: 18,
		`count(count_over_time(pantau_http_up[40m]))`:                     2,
		// Makbon's VSAT link has scheduled outages: some down rounds exist.
		`count(min_over_time(pantau_icmp_up{site="distrik-makbon"}[40m]) == 0)`: 1,
	} {
		vec := query(q, now)
		if len(vec) != 1 || int(vec[0].Value) != want {
			t.Errorf("%s = %v, want %d", q, vec, want)
		}
	}
	// The demo's inventory makes the SLA report work at once.
	wit := time.FixedZone("WIT", 9*3600)
	period := now.Add(-time.Hour).In(wit).Format("2006-01-02") + ".." + now.In(wit).Format("2006-01-02")
	readWith("http://"+addr2, viewer())
	r := getReport(t, "http://"+addr2, period)
	if len(r.Links) != 6 || r.Summary.LinksWithData != 6 || r.Coverage.OPDTotal != 4 || r.Coverage.OPDMonitored != 3 ||
		r.Summary.Services != 3 || r.Summary.ServicesWithData != 3 || len(r.Assets) != 6 {
		t.Errorf("demo report: %d links, %d with data, coverage %+v, summary %+v, %d assets", len(r.Links), r.Summary.LinksWithData, r.Coverage, r.Summary, len(r.Assets))
	}
	for _, l := range r.Links {
		if l.Link == "distrik-makbon-wan" && (l.Outages == 0 || l.Down == 0) {
			t.Errorf("Makbon's scheduled outages are not in the report: %+v", l)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
