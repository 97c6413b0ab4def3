package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testproc"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// installPlugin copies a plugin built once per run by testbuild into dir
// as pantau-plugin-<name> (so that the plugins this test's agent starts
// are told apart by their path); it returns its path and SHA-256.
func installPlugin(t *testing.T, dir, name, built string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pantau-plugin-"+name)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return bin, hex.EncodeToString(s[:])
}

// expiringCert is a self-signed certificate for 127.0.0.1 that expires in
// two days; it returns the TLS certificate and its PEM.
func expiringCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portal.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// dnsServer answers every A question with 127.0.0.1 on a loopback UDP
// port, until the test ends.
func dnsServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if len(q) < 12 {
				continue
			}
			i := 12
			for i < len(q) && q[i] != 0 {
				i += int(q[i]) + 1
			}
			if i+5 > len(q) {
				continue
			}
			question := q[12 : i+5]
			resp := append([]byte{}, q[0:2]...)                     // id
			resp = append(resp, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0) // response, recursion; 1 question, 1 answer
			resp = append(resp, question...)
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
			if binary.BigEndian.Uint16(question[len(question)-4:]) != 1 { // not A: no answer
				resp[7] = 0
				resp = resp[:12+len(question)]
			}
			pc.WriteTo(resp, addr)
		}
	}()
	return pc.LocalAddr().String()
}

// TestIntegrationBundledPlugins: the bundled http, dns and tcp plugins,
// built and launched by the real agent, probe loopback servers (the web
// server's certificate expires in two days) and their points reach a
// collector; next to them a plugin that panics, hangs or returns garbage,
// and one whose checksum is wrong, fail only their own targets while the
// agent keeps probing ICMP and SNMP.
func TestIntegrationBundledPlugins(t *testing.T) {
	lab.SkipShort(t, "raw ICMP sockets (root) and snmpd")
	t.Parallel()
	begin := time.Now()
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	dir := t.TempDir()
	httpBin, httpSum := installPlugin(t, dir, "http", testbuild.Plugin(t, "http"))
	dnsBin, dnsSum := installPlugin(t, dir, "dns", testbuild.Plugin(t, "dns"))
	tcpBin, tcpSum := installPlugin(t, dir, "tcp", testbuild.Plugin(t, "tcp"))
	faultyBin, faultySum := installPlugin(t, dir, "faulty", testbuild.Main(t, "github.com/pantau-noc/pantau/agent/internal/plughost/testdata/probe"))

	cert, certPEM := expiringCert(t)
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, certPEM, 0o600)
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html>Portal Pemerintah Kabupaten Sorong</html>")
	}))
	web.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	web.StartTLS()
	defer web.Close()
	dnsAddr := dnsServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("220 mail.sorongkab.go.id ESMTP ready\r\n"))
			c.Close()
		}
	}()
	sd := lab.StartSnmpd(t, lab.SnmpdOptions{})

	// the collector
	cl, _ := net.Listen("tcp", "127.0.0.1:0")
	colAddr := cl.Addr().String()
	cl.Close()
	ccfg := filepath.Join(dir, "collector.yml")
	// the inventory names the bundled checks as services, so they appear
	// in the SPBE report
	invFile := filepath.Join(dir, "inventory.yml")
	os.WriteFile(invFile, []byte(`sites: [{id: noc, name: NOC Diskominfo, kind: datacenter}]
services:
  - {id: portal, name: Portal Pemda, site: noc, probe: {measurement: http, target: portal}}
  - {id: dns-portal, name: DNS portal, site: noc, probe: {measurement: dns, target: resolve, agent: plugin-agent}}
  - {id: mail, name: Email Pemda, site: noc, probe: {measurement: tcp, target: smtp}}
`), 0o600)
	os.WriteFile(ccfg, []byte(fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\n", colAddr, filepath.Join(dir, "collector"), invFile)), 0o600)
	tok, err := exec.Command(colBin, "token", "create", "--config", ccfg, "--agent", "plugin-agent").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	viewer, err := exec.Command(colBin, "token", "create", "--config", ccfg, "--name", "plugins-test", "--role", "viewer").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	readWith("http://"+colAddr, strings.TrimSpace(string(viewer)))
	col := exec.Command(colBin, "serve", "--config", ccfg, "--log.level", "warn")
	if err := col.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Process.Kill(); col.Wait() })
	base := "http://" + colAddr
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatal("collector did not become ready")
	}

	ml, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsAddr := ml.Addr().String()
	ml.Close()
	acfg := filepath.Join(dir, "agent.yml")
	os.WriteFile(acfg, []byte(fmt.Sprintf(`agent: {id: plugin-agent, state_dir: %s, listen_address: "%s", icmp_mode: raw}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 5s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 2s, timeout: 1s}
icmp:
  - {target: 127.0.0.1, name: self, packets: 1}
snmp:
  - {target: %q, name: sw, community: %s, interval: 3s, timeout: 2s}
plugins:
  - name: http
    path: %s
    sha256: %s
    targets:
      - {name: portal, config: {url: "%s/", ca_file: %s, content_match: "Pemerintah Kabupaten"}}
  - name: dns
    path: %s
    sha256: %s
    targets:
      - {name: resolve, config: {query: portal.sorongkab.go.id, server: "%s", expect: ["127.0.0.1"]}}
  - name: tcp
    path: %s
    sha256: %s
    targets:
      - {name: smtp, config: {address: "%s", expect: "^220 "}}
  - name: faulty
    path: %s
    sha256: %s
    targets: [{name: ok}, {name: hang}, {name: garbage}]
  - name: crashing
    path: %s
    sha256: %s
    targets: [{name: boom}]
  - name: wrongsum
    path: %s
    sha256: "%s"
    targets: [{name: portal}]
`, filepath.Join(dir, "agent"), metricsAddr, base, strings.TrimSpace(string(tok)), sd.Addr, sd.Community,
		httpBin, httpSum, web.URL, caFile, dnsBin, dnsSum, dnsAddr, tcpBin, tcpSum, ln.Addr().String(),
		faultyBin, faultySum, faultyBin, faultySum, httpBin, strings.Repeat("ab", 32))), 0o600)
	agent := exec.Command(agentBin, "run", "--config", acfg, "--log.level", "info")
	var logs lab.SyncBuffer
	agent.Stdout, agent.Stderr = &logs, &logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	// killed -9, the agent takes its plugins with it (Pdeathsig)
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			out, _ := exec.Command("pgrep", "-f", dir+"/pantau-plugin-").Output()
			if len(strings.TrimSpace(string(out))) == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		out, _ := exec.Command("pgrep", "-af", dir+"/pantau-plugin-").Output()
		t.Errorf("plugins outlived the agent killed with SIGKILL:\n%s", out)
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				if p, err := os.FindProcess(pid); err == nil {
					p.Kill()
				}
			}
		}
	})
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })

	// value returns the newest value of a series, or false
	value := func(sel string) (float64, bool) {
		q := url.Values{"query": {sel}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
		resp, err := get(base + "/api/v1/query?" + q.Encode())
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) != 1 {
			return 0, false
		}
		v, err := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
		return v, err == nil
	}
	want := map[string]func(float64) bool{
		`pantau_http_up{target="portal"}`:                      func(v float64) bool { return v == 1 },
		`pantau_http_status_code{target="portal"}`:             func(v float64) bool { return v == 200 },
		`pantau_http_content_match{target="portal"}`:           func(v float64) bool { return v == 1 },
		`pantau_http_tls_cert_expiry_seconds{target="portal"}`: func(v float64) bool { return v > 47*3600 && v <= 48*3600 },
		`pantau_dns_up{target="resolve"}`:                      func(v float64) bool { return v == 1 },
		`pantau_dns_answer_match{target="resolve"}`:            func(v float64) bool { return v == 1 },
		`pantau_tcp_up{target="smtp"}`:                         func(v float64) bool { return v == 1 },
		`pantau_tcp_response_match{target="smtp"}`:             func(v float64) bool { return v == 1 },
		`pantau_testprobe_up{target="ok"}`:                     func(v float64) bool { return v == 1 },
		`pantau_plugin_ok{plugin="faulty",target="hang"}`:      func(v float64) bool { return v == 0 },
		`pantau_plugin_ok{plugin="faulty",target="garbage"}`:   func(v float64) bool { return v == 0 },
		`pantau_plugin_ok{plugin="crashing",target="boom"}`:    func(v float64) bool { return v == 0 },
		`pantau_plugin_ok{plugin="wrongsum",target="portal"}`:  func(v float64) bool { return v == 0 },
	}
	var missing []string
	if !lab.WaitFor(t.Context(), 60*time.Second, func() bool {
		missing = missing[:0]
		for sel, ok := range want {
			if v, found := value(sel); !found || !ok(v) {
				missing = append(missing, fmt.Sprintf("%s (%v)", sel, v))
			}
		}
		return len(missing) == 0
	}) {
		t.Errorf("not seen at the collector: %v\nagent log:\n%s", missing, logs.String())
	}
	// ICMP and SNMP go on every round while the faulty plugins keep
	// failing and restarting (they fail from the agent's start): 8 rounds
	// and 5 polls, and the agent has logged each fault
	client := testproc.BearerClient(strings.TrimSpace(string(viewer)), 10*time.Second)
	var icmp, snmp []int64
	faultLogs := []string{"does not match the sha256 in agent.yml", "plugin died; restarting after backoff", "(timeout)", "(garbage)", "plugin=crashing"}
	lab.WaitFor(t.Context(), 30*time.Second, func() bool {
		icmp = samples(t, client, base, `pantau_icmp_up{name="self"}`)
		snmp = samples(t, client, base, `pantau_snmp_device_up{device="sw"}`)
		l := logs.String()
		for _, s := range faultLogs {
			if !strings.Contains(l, s) {
				return false
			}
		}
		return len(icmp) >= 8 && len(snmp) >= 5
	})
	if len(icmp) < 8 || len(snmp) < 5 {
		t.Errorf("%d ICMP rounds and %d SNMP polls while the plugins failed: %v", len(icmp), len(snmp), icmp)
	}
	for i := 1; i < len(icmp); i++ {
		if gap := icmp[i] - icmp[i-1]; gap > 3000 {
			t.Errorf("ICMP rounds %d ms apart", gap)
		}
	}
	for i := 1; i < len(snmp); i++ {
		if gap := snmp[i] - snmp[i-1]; gap > 4500 {
			t.Errorf("SNMP polls %d ms apart", gap)
		}
	}
	// the services the bundled plugins check are in the SPBE report, up
	// from the WIB day the test began: a run across WIB midnight (17:00
	// UTC) has its points on two days
	wib := time.FixedZone("WIB", 7*3600)
	first, today := begin.In(wib).Format("2006-01-02"), time.Now().In(wib).Format("2006-01-02")
	resp, err := client.Get(base + "/api/v1/report?format=json&period=" + first + ".." + today)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Services []struct {
			Service string `json:"service"`
			Check   string `json:"check"`
			Up      int    `json:"up"`
			Down    int    `json:"down"`
		} `json:"services"`
		Summary struct {
			Services         int      `json:"services"`
			ServicesWithData int      `json:"services_with_data"`
			Availability     *float64 `json:"service_availability_pct"`
		} `json:"summary"`
	}
	err = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{"portal": "http portal", "dns-portal": "dns resolve", "mail": "tcp smtp"}
	for _, sv := range rep.Services {
		if checks[sv.Service] != sv.Check || sv.Up < 1 || sv.Down != 0 {
			t.Errorf("service %+v in the report", sv)
		}
		delete(checks, sv.Service)
	}
	if len(checks) != 0 || rep.Summary.ServicesWithData != 3 || rep.Summary.Availability == nil || *rep.Summary.Availability != 100 {
		t.Errorf("services missing from the report: %v; summary %+v", checks, rep.Summary)
	}
	// the plugin metrics, linted
	resp, err = client.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	expo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, s := range []string{`pantau_agent_plugin_starts_total{plugin="http"} 1`, `pantau_agent_plugin_failures_total{plugin="wrongsum",reason="checksum"} `,
		`pantau_agent_plugin_failures_total{plugin="faulty",reason="timeout"} `, `pantau_agent_plugin_failures_total{plugin="crashing",reason="crash"} `} {
		if !strings.Contains(string(expo), s) {
			t.Errorf("agent metrics lack %s", s)
		}
	}
	lint := exec.Command("promtool", "check", "metrics")
	lint.Stdin = strings.NewReader(string(expo))
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	l := logs.String()
	for _, s := range faultLogs {
		if !strings.Contains(l, s) {
			t.Errorf("agent log lacks %q", s)
		}
	}
}
