package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationTelegrafServices: inventory services checked only by a
// real Telegraf (http_response, net_response, dns_query against servers
// on 127.0.0.1) are up while the servers answer and down once the web
// server answers 503, the TCP port is closed and the DNS server is gone;
// the services are matched by URL, host:port and DNS server. Telegraf
// here sends its token as "Authorization: Token", also to /query.
func TestIntegrationTelegrafServices(t *testing.T) {
	lab.SkipShort(t, "a Telegraf build")
	t.Parallel()
	tg, colBin := buildTelegraf(t), testbuild.Collector(t)
	dir := t.TempDir()

	// the servers
	var web503 atomic.Bool
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web503.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("Portal Pemda"))
	}))
	defer web.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	defer tcp.Close()
	dns, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serveDNS(dns)
	defer dns.Close()
	dnsPort := dns.LocalAddr().(*net.UDPAddr).Port

	// the collector
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	colAddr := l.Addr().String()
	l.Close()
	inv := writeFile(t, filepath.Join(dir, "inventory.yml"), fmt.Sprintf(`sites: [{id: noc, name: NOC Diskominfo, kind: datacenter}]
services:
  - {id: portal, name: Portal Pemda, site: noc, probe: {measurement: http, target: %q}}
  - {id: mail, name: Email Pemda, site: noc, probe: {measurement: tcp, target: %q}}
  - {id: dns, name: DNS Pemda, site: noc, probe: {measurement: dns, target: 127.0.0.1}}
`, web.URL, tcp.Addr().String()))
	ccfg := writeFile(t, filepath.Join(dir, "collector.yml"), fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\n", colAddr, filepath.Join(dir, "data"), inv))
	tok := tokenCreate(t, colBin, "--config", ccfg, "--agent", "tg-noc", "--site", "noc")
	viewer := tokenCreate(t, colBin, "--config", ccfg, "--name", "reader", "--role", "viewer")
	col := exec.Command(colBin, "serve", "--config", ccfg, "--log.level", "warn")
	if err := col.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Process.Kill(); col.Wait() })
	base := "http://" + colAddr
	client := testproc.BearerClient(viewer, 10*time.Second)
	if !lab.WaitFor(t.Context(), 20*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatal("collector did not become ready")
	}

	tcfg := writeFile(t, filepath.Join(dir, "telegraf.conf"), fmt.Sprintf(`[agent]
  interval = "10s"
  flush_interval = "1s"
  precision = "1ms"
  omit_hostname = true

[[outputs.influxdb]]
  urls = ["%s"]
  database = "telegraf"
  http_headers = {"Authorization" = "Token %s"}
  timeout = "5s"

[[inputs.http_response]]
  urls = ["%s"]
  response_timeout = "2s"

[[inputs.net_response]]
  protocol = "tcp"
  address = "%s"
  timeout = "1s"

[[inputs.dns_query]]
  servers = ["127.0.0.1"]
  port = %d
  domains = ["portal.example.go.id"]
  record_type = "A"
  timeout = "1s"
`, base, tok, web.URL, tcp.Addr(), dnsPort))
	var last time.Time
	round := func(what string) {
		t.Helper()
		next := time.Now().Truncate(10 * time.Second).Add(500 * time.Millisecond)
		for !next.After(last) || next.Before(time.Now()) {
			next = next.Add(10 * time.Second)
		}
		time.Sleep(time.Until(next))
		last = next.Add(9 * time.Second)
		out, err := exec.Command(tg, "--config", tcfg, "--once").CombinedOutput()
		t.Logf("telegraf --once (%s) at %s: %v", what, next.Format("15:04:05.000"), err)
		if strings.Contains(string(out), "E! [outputs") || strings.Contains(string(out), "Database creation failed") {
			t.Errorf("telegraf could not write:\n%s", out)
		}
	}
	states := func(want string) {
		t.Helper()
		var got map[string]string
		if !lab.WaitFor(t.Context(), 30*time.Second, func() bool {
			got = map[string]string{}
			for k, v := range scrape(t, client, base) {
				if v == 1 && strings.HasPrefix(k, "pantau_service_state{") {
					_, id, _ := strings.Cut(k, `service="`)
					id, _, _ = strings.Cut(id, `"`)
					_, s, _ := strings.Cut(k, `state="`)
					got[id], _, _ = strings.Cut(s, `"`)
				}
			}
			return got["portal"] == want && got["mail"] == want && got["dns"] == want
		}) {
			t.Fatalf("services %v, want all %s", got, want)
		}
	}

	round("servers up")
	states("up")
	web503.Store(true)
	tcp.Close()
	dns.Close()
	round("servers down")
	states("down")
}

// serveDNS answers every query on pc with one A record, 127.0.0.1.
func serveDNS(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 12 || binary.BigEndian.Uint16(buf[4:6]) != 1 {
			continue
		}
		q := buf[12:n] // the question: name, type, class
		end := 0
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		if end+5 > len(q) {
			continue
		}
		q = q[:end+5]
		resp := append([]byte{}, buf[:2]...)                         // id
		resp = append(resp, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)      // flags: response, RD, RA; 1 question, 1 answer
		resp = append(resp, q...)                                    // the question
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4) // A IN, TTL 60, 4 bytes
		resp = append(resp, 127, 0, 0, 1)
		pc.WriteTo(resp, addr)
	}
}
