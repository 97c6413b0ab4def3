package collector

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// testCollector runs the collector in-process on a loopback port.
type testCollector struct {
	t       *testing.T
	cfg     *config.Config
	base    string
	cancel  context.CancelFunc
	done    chan error
	logs    *syncBuffer
	httpCli *http.Client // sends the admin token
	admin   string       // an unscoped admin token, for the tests' reads
}

type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

func startCollector(t *testing.T, mod func(*config.Config)) *testCollector {
	t.Helper()
	cfg := config.Default()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	if mod != nil {
		mod(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tc := &testCollector{t: t, cfg: cfg, done: make(chan error, 1), logs: newSyncBuffer(), httpCli: &http.Client{Timeout: 30 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	tc.cancel = cancel
	addr := make(chan net.Addr, 1)
	logger := slog.New(slog.NewTextHandler(tc.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		tc.done <- Run(ctx, Options{Config: cfg, Logger: logger, Listening: func(a net.Addr) { addr <- a }})
	}()
	select {
	case a := <-addr:
		scheme := "http"
		if cfg.TLS.CertFile != "" {
			scheme = "https"
		}
		tc.base = scheme + "://" + a.String()
	case err := <-tc.done:
		t.Fatalf("collector did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("collector did not start within 60s")
	}
	t.Cleanup(func() { tc.stop() })
	tc.admin = tc.apiToken("test-admin", "admin")
	tc.httpCli = testproc.BearerClient(tc.admin, 30*time.Second)
	return tc
}

// apiToken creates an API token with the CLI.
func (tc *testCollector) apiToken(name, role string, opds ...string) string {
	tc.t.Helper()
	args := []string{"token", "create", "--data-dir", tc.cfg.DataDir, "--name", name, "--role", role}
	for _, o := range opds {
		args = append(args, "--opd", o)
	}
	code, out, errOut := cli(tc.t, args...)
	if code != 0 {
		tc.t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

func (tc *testCollector) stop() {
	if tc.cancel == nil {
		return
	}
	tc.cancel()
	tc.cancel = nil
	select {
	case err := <-tc.done:
		if err != nil {
			tc.t.Errorf("collector Run returned %v", err)
		}
	case <-time.After(60 * time.Second):
		tc.t.Error("collector did not stop within 60s")
	}
}

// cli runs a pantau-collector command line in-process.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func (tc *testCollector) token(agent string, sites ...string) string {
	tc.t.Helper()
	args := []string{"token", "create", "--data-dir", tc.cfg.DataDir, "--agent", agent}
	for _, s := range sites {
		args = append(args, "--site", s)
	}
	code, out, errOut := cli(tc.t, args...)
	if code != 0 {
		tc.t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(tok, "pantau_") {
		tc.t.Fatalf("token create printed %q on stdout; want only the token", out)
	}
	return tok
}

func (tc *testCollector) write(token, body string) (int, string) {
	tc.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tc.base+"/api/v2/write?precision=s", strings.NewReader(body))
	req.Header.Set("Authorization", "Token "+token)
	res, err := tc.httpCli.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (tc *testCollector) promAPI() promv1.API {
	tc.t.Helper()
	c, err := api.NewClient(api.Config{Address: tc.base, Client: tc.httpCli})
	if err != nil {
		tc.t.Fatal(err)
	}
	return promv1.NewAPI(c)
}

func (tc *testCollector) query(q string, at time.Time) model.Vector {
	tc.t.Helper()
	v, _, _, err := tc.promAPI().Query(context.Background(), q, at)
	if err != nil {
		tc.t.Fatalf("query %s: %v", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		tc.t.Fatalf("query %s: got %s, want vector", q, v.Type())
	}
	return vec
}

// TestIntegrationServeWriteQuery is the README's first walk-through: serve,
// create a token, write line protocol, read it back with PromQL.
func TestIntegrationServeWriteQuery(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("agent-dinkes", "dinkes")
	now := time.Now().Truncate(time.Second)
	body := fmt.Sprintf("icmp,site=dinkes,target=10.20.0.1,name=gw-dinkes rtt_avg_seconds=0.0031,loss_ratio=0.2,up=1i %d\n", now.Unix())
	if code, msg := tc.write(tok, body); code != 204 {
		t.Fatalf("write: %d %s", code, msg)
	}
	vec := tc.query(`pantau_icmp_rtt_avg_seconds{site="dinkes"}`, now)
	if len(vec) != 1 || float64(vec[0].Value) != 0.0031 || vec[0].Metric["agent"] != "agent-dinkes" || vec[0].Metric["name"] != "gw-dinkes" {
		t.Fatalf("query result %v", vec)
	}
	// Label APIs as Grafana uses them.
	vals, _, _, err := tc.promAPI().LabelValues(context.Background(), "__name__", nil, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// the written series, beside the collector's own (stored every 15 s)
	var written []string
	for _, v := range vals {
		if n := string(v); !strings.HasPrefix(n, "pantau_collector_") && !strings.HasPrefix(n, "pantau_inventory_") {
			written = append(written, n)
		}
	}
	if got := fmt.Sprint(written); got != "[pantau_icmp_loss_ratio pantau_icmp_rtt_avg_seconds pantau_icmp_up]" {
		t.Fatalf("metric names = %s", got)
	}
	for _, path := range []string{"/healthz", "/readyz", "/ping"} {
		res, err := tc.httpCli.Get(tc.base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}

// TestIntegrationInfluxClient writes with the official InfluxDB v2 Go client.
func TestIntegrationInfluxClient(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("telegraf-noc")
	client := influxdb2.NewClient(tc.base, tok)
	defer client.Close()
	w := client.WriteAPIBlocking("diskominfo", "pantau")
	now := time.Now().Truncate(time.Millisecond)
	p := influxdb2.NewPoint("http_check", map[string]string{"target": "https://127.0.0.1/", "site": "portal"},
		map[string]any{"duration_seconds": 0.25, "up": 1, "status_code": 200}, now)
	if err := w.WritePoint(context.Background(), p); err != nil {
		t.Fatalf("influx client write: %v", err)
	}
	if err := w.WriteRecord(context.Background(), fmt.Sprintf("http_check,site=portal,target=b duration_seconds=0.5 %d", now.UnixNano())); err != nil {
		t.Fatal(err)
	}
	vec := tc.query(`sum(pantau_http_check_duration_seconds{agent="telegraf-noc"})`, now)
	if len(vec) != 1 || float64(vec[0].Value) != 0.75 {
		t.Fatalf("got %v", vec)
	}
	// A rejected write surfaces our message through the client.
	err := w.WriteRecord(context.Background(), "http_check,site=portal up=")
	if err == nil || !strings.Contains(err.Error(), "line 1 col") {
		t.Fatalf("client error = %v", err)
	}
}

// TestIntegrationMetricsLint runs promtool check metrics over /metrics after
// traffic of every kind, so the labelled series exist too.
func TestIntegrationMetricsLint(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs promtool")
	}
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (Debian package prometheus)")
	}
	// An inventory that sets every optional field (the reference one:
	// links with a bandwidth, contracts, devices, services, site targets,
	// coordinates), plus a link of its own, so the SLA series are linted
	// too: a link's bandwidth once failed promtool (bits are not a base unit).
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	invYAML := strings.Replace(string(inventory.ExampleYAML), "\nlinks:\n", `
  - {id: s1, name: S1, kind: opd, lat: -6.9, lon: 107.6, sla_target: 99.0}

links:
  - {id: l1, site: s1, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}, contract: {target: 99.5, end: 2026-12-31}}
`, 1)
	if invYAML == string(inventory.ExampleYAML) {
		t.Fatal("the reference inventory has no links: section to extend")
	}
	os.WriteFile(inv, []byte(invYAML), 0o644)
	// and the optional config: a notifier (the outbox's series), a
	// remote-write engine (its queue's series) and the HA peer
	tc := startCollector(t, func(c *config.Config) {
		c.Inventory = inv
		c.Notifiers = []notify.Config{{Name: "hook", Type: "webhook", URL: "http://127.0.0.1:9/hook"}}
		c.Storage.RemoteWrite = []config.RemoteWriteConfig{{Name: "vm", EndpointConfig: config.EndpointConfig{URL: "http://127.0.0.1:9/api/v1/write"}}}
		c.Alerting.HAPeer = "http://127.0.0.1:9"
		c.Report.Chromium, c.Report.PDFMaxConcurrent = "/usr/bin/chromium", 2
	})
	tok := tc.token("a1")
	tc.write(tok, fmt.Sprintf("m v=1,s=\"dropped\" %d", time.Now().Unix()))
	tc.write(tok, "m v=")
	tc.write("pantau_bad", "m v=1")
	tc.query("up", time.Now())
	res, err := tc.httpCli.Get(tc.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	expo, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`pantau_collector_ingest_requests_total{api="v2",code="204"} 1`,
		`pantau_collector_ingest_requests_total{api="v2",code="400"} 1`,
		`pantau_collector_ingest_requests_total{api="v2",code="401"} 1`,
		`pantau_collector_ingest_samples_total 1`,
		`pantau_collector_ingest_rejected_points_total{reason="malformed"} 1`,
		`pantau_collector_ingest_rejected_requests_total{reason="unauthorized"} 1`,
		`pantau_collector_ingest_rejected_requests_total{reason="agent_inflight"} 0`,
		`pantau_collector_ingest_body_bytes_in_flight 0`,
		`pantau_collector_ingest_string_fields_dropped_total{agent="a1"} 1`,
		`pantau_collector_ingest_query_statements_total{statement="unsupported"} 0`,
		`pantau_collector_ingest_batch_ids 0`,
		`pantau_collector_ingest_batch_ids_evicted_total 0`,
		`go_gc_gomemlimit_bytes `,
		`pantau_collector_agent_active_series{agent="a1"} 1`,
		`pantau_collector_storage_head_series `,
		`pantau_collector_storage_writable 1`,
		`pantau_collector_storage_write_failures_total{kind="wal_write"} 0`,
		`pantau_collector_storage_recoveries_total 0`,
		`pantau_collector_storage_corrupt_segments_total{damage="corrupt",log="wal"} 0`,
		`pantau_collector_storage_set_aside_bytes{damage="corrupt"} 0`,
		`pantau_collector_storage_unreadable_samples_estimated_total 0`,
		`pantau_collector_storage_replay_unknown_series_samples_total{log="wal"} 0`,
		`pantau_collector_build_info{`,
		`pantau_collector_remote_read_refused_total{reason="samples"} 0`,
		`pantau_collector_remote_read_refused_total{reason="queries"} 0`,
		`pantau_collector_federate_refused_total{reason="busy"} 0`,
		`pantau_collector_match_selectors_refused_total 0`,
		`pantau_collector_report_pdf_refused_total 0`,
		`pantau_collector_report_pdf_renders_total{result="no_chromium"} 0`,
		`pantau_collector_report_pdf_blocked_requests_total 0`,
		`pantau_collector_report_pdf_render_duration_seconds_count 0`,
		`pantau_link_state{district="",link="l1",opd="s1",site="s1",state="nodata"} 1`,
		`pantau_link_bandwidth_bytes_per_second{district="",link="l1",opd="s1",site="s1"} 2.5e+06`,
		`pantau_service_state{`,
		`pantau_service_sla_target_ratio{`,
		`pantau_site_sla_target_ratio{`,
		`pantau_site_info{district="",kind="opd",lat="-6.9",lon="107.6",name="S1",opd="s1",site="s1"} 1`,
		`pantau_remote_write_samples_total{`,
		`pantau_collector_alerting_ha_peer_ready `,
		`pantau_collector_alerting_ha_suppressed_notifications_total 0`,
		`pantau_collector_config_last_reload_successful 1`,
		`pantau_collector_config_last_reload_success_timestamp_seconds `,
		`pantau_collector_config_reloads_total{result="failure"} 0`,
		`pantau_link_contract_expiry_timestamp_seconds{`,
		`pantau_device_warranty_expiry_timestamp_seconds{`,
		`pantau_device_contract_expiry_timestamp_seconds{`,
		`pantau_inventory_links 5`,
		`pantau_notifications_sent_total{notifier="hook",type="webhook"} 0`,
		`pantau_notification_outbox_entries{notifier="hook"} 0`,
		`pantau_notification_outbox_oldest_age_seconds{notifier="hook"} 0`,
		`pantau_alerts{rule="LinkDown",state="firing"} 0`,
		`pantau_alert_rule_evaluation_failures_total{rule="LinkDown"} 0`,
	} {
		if !bytes.Contains(expo, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(expo)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestIntegrationTokenRevokeTakesEffect(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("a1")
	line := fmt.Sprintf("m v=1 %d", time.Now().Unix())
	if code, msg := tc.write(tok, line); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	code, out, errOut := cli(t, "token", "list", "--data-dir", tc.cfg.DataDir, "--format", "json")
	if code != 0 || !strings.Contains(out, `"agent": "a1"`) || strings.Contains(out, tok[len(tok)-20:]) {
		t.Fatalf("token list: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "token", "revoke", "--data-dir", tc.cfg.DataDir, "--agent", "a1"); code != 0 || out != "revoked 1 token(s) of agent a1\n" {
		t.Fatalf("revoke: %d %q %s", code, out, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, msg := tc.write(tok, line)
		if code == 401 && strings.Contains(msg, "revoked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked token still accepted: %d %s", code, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIntegrationTLS serves over TLS with a required client certificate.
func TestIntegrationTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, caKey := selfSigned(t, "pantau test CA", nil, nil, true)
	srvCert, srvKey := selfSigned(t, "127.0.0.1", ca, caKey, false)
	cliCert, cliKey := selfSigned(t, "agent-dinkes", ca, caKey, false)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(dir, "srv.pem"), "CERTIFICATE", srvCert.Raw)
	writeKey(t, filepath.Join(dir, "srv.key"), srvKey)
	tc := startCollector(t, func(c *config.Config) {
		c.TLS = config.TLSConfig{CertFile: filepath.Join(dir, "srv.pem"), KeyFile: filepath.Join(dir, "srv.key"),
			ClientCAFile: filepath.Join(dir, "ca.pem"), ClientAuth: config.ClientAuthRequire}
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	// Without a client certificate the handshake fails.
	tc.httpCli = &http.Client{Timeout: 10 * time.Second, Transport: testproc.Bearer(tc.admin, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})}
	if _, err := tc.httpCli.Get(tc.base + "/healthz"); err == nil {
		t.Fatal("TLS without client certificate accepted")
	}
	tc.httpCli = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{cliCert.Raw}, PrivateKey: cliKey}}}}}
	tok := tc.token("agent-dinkes")
	if code, msg := tc.write(tok, fmt.Sprintf("m v=1 %d", time.Now().Unix())); code != 204 {
		t.Fatalf("write over mTLS: %d %s", code, msg)
	}
}

func selfSigned(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:        isCA, BasicConstraintsValid: true,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, k *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "EC PRIVATE KEY", der)
}

// TestIntegrationGracefulShutdown: a write accepted before shutdown is
// durable and Run returns nil.
func TestIntegrationGracefulShutdown(t *testing.T) {
	t.Parallel()
	tc := startCollector(t, nil)
	tok := tc.token("a1")
	if code, msg := tc.write(tok, fmt.Sprintf("m v=42 %d", time.Now().Unix())); code != 204 {
		t.Fatalf("%d %s", code, msg)
	}
	dataDir := tc.cfg.DataDir
	tc.stop()
	if !strings.Contains(tc.logs.String(), "collector stopped") {
		t.Fatalf("no clean stop in logs:\n%s", tc.logs.String())
	}
	// Restart on the same data: the sample is there.
	tc2 := startCollector(t, func(c *config.Config) { c.DataDir = dataDir })
	vec := tc2.query("pantau_m_v", time.Now())
	if len(vec) != 1 || vec[0].Value != 42 {
		t.Fatalf("after restart: %v", vec)
	}
}
