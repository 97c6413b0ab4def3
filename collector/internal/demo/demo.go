// Package demo is "pantau-collector demo": a collector on loopback with
// simulated sites writing to it (Kabupaten Sorong, WIT), simulated SNMP
// routers and public services (demosim) that a real pantau-agent polls
// and checks, an inventory and a webhook for the alerts, so that a first
// look needs nothing but the binaries. The command line parses its flags
// into Options; the collector itself comes in through Options.Run.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/daemon"
	"github.com/pantau-noc/pantau/collector/internal/demosim"
	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Options configure Run: the demo command's flags, and the collector.
type Options struct {
	// ListenAddress is the demo collector's loopback address.
	ListenAddress string
	// DataDir is the data directory; "" is a temporary directory removed
	// on exit.
	DataDir string
	// Duration stops the live writes this long after the backfill; 0
	// runs until ctx ends.
	Duration time.Duration
	// Interval is how often each simulated site writes, and the demo
	// agent's probe interval (at least 1s).
	Interval time.Duration
	// History is how much history is backfilled at start.
	History time.Duration
	// AgentPath is the pantau-agent binary run as the NOC's agent: ""
	// next to this binary, else in PATH; "none" simulates its data.
	AgentPath string
	// PluginsDir holds the bundled plugins and their SHA256SUMS; ""
	// plugins/ next to the agent, else /usr/lib/pantau/plugins.
	PluginsDir string
	Logger     *slog.Logger
	// Run is the collector daemon (collector.Run, which main hands the
	// command line).
	Run daemon.RunFunc
}

// Run runs a collector on loopback with simulated sites, a simulated
// SNMP agent and services and (when found) a real pantau-agent writing to
// it, and tells on stdout how to look at it. It returns when ctx ends (or
// Duration has passed) and everything it started has stopped.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	logger := o.Logger
	if o.DataDir == "" {
		d, err := os.MkdirTemp("", "pantau-demo-")
		if err != nil {
			return fmt.Errorf("create demo data directory: %w", err)
		}
		defer os.RemoveAll(d)
		o.DataDir = d
	} else if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return fmt.Errorf("create demo data directory: %w", err)
	}
	agentBin, plugDir, agentNote := findDemoAgent(o.AgentPath, o.PluginsDir)
	cfg := config.Default()
	cfg.ListenAddress = o.ListenAddress
	cfg.DataDir = o.DataDir
	// The simulated sites are also an inventory, so the SLA engine builds
	// minute states and the report works from the first minute.
	cfg.Inventory = filepath.Join(o.DataDir, "inventory.yml")
	sites := demoSites()
	if err := os.WriteFile(cfg.Inventory, demoInventory(sites), 0o644); err != nil {
		return fmt.Errorf("write the demo inventory: %w", err)
	}
	// Alerts (the default rules) go to a local webhook that writes them to
	// a file, as a chat would show them.
	hookCtx, stopHook := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHook()
	hook, err := demosim.StartWebhook(hookCtx, filepath.Join(o.DataDir, "notifications.jsonl"))
	if err != nil {
		return err
	}
	cfg.Notifiers = []notify.Config{{Name: "demo-webhook", Type: "webhook", URL: hook.URL}}
	if err := cfg.Validate(); err != nil {
		return err
	}

	// The collector runs until the demo ends; every return below waits for
	// it to shut down, so its data directory is closed cleanly.
	// (not canceled with ctx: on Ctrl-C the agent stops first, then this)
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	addrCh := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() {
		// the states are stored as often as the sites write, so graphs follow
		runErr <- o.Run(runCtx, daemon.Options{Config: cfg, Logger: logger, Listening: func(a net.Addr) { addrCh <- a },
			SelfScrapeInterval: min(o.Interval, daemon.SelfScrapeEvery)})
	}()
	var addr net.Addr
	select {
	case addr = <-addrCh:
	case err := <-runErr:
		return err
	}
	base := "http://" + addr.String()
	fail := func(err error) error {
		stopRun()
		<-runErr
		return err
	}

	// What the NOC's agent probes: the sites' routers over SNMP and the
	// public services.
	mibs := map[string]demosim.MIB{}
	for _, s := range sites {
		mibs["rtr-"+s.id] = s.mib
	}
	snmpAgent, err := demosim.Listen("127.0.0.1:0", mibs, logger)
	if err != nil {
		return fail(err)
	}
	snmpDone := make(chan error, 1)
	go func() { snmpDone <- snmpAgent.Serve(runCtx) }()
	collectorFail := fail
	fail = func(err error) error {
		err = collectorFail(err)
		<-snmpDone
		return err
	}
	svc, err := demosim.StartServices(runCtx, cfg.DataDir, demoPortal, demoEOffice)
	if err != nil {
		return fail(err)
	}

	// One token per site agent (restricted to its site), and one for the
	// NOC's agent, which writes for every site.
	db, err := statedb.Open(ctx, cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	tokens := make(map[string]string, len(sites)+1)
	for _, s := range sites {
		tok, _, err := db.CreateToken(ctx, "agent-"+s.id, []string{s.id}, "demo: "+s.name)
		if err != nil {
			db.Close()
			return fail(err)
		}
		tokens[s.id] = tok
	}
	nocToken, _, err := db.CreateToken(ctx, demoNOCAgent, nil, "demo: the NOC's agent (SNMP and service checks)")
	if err != nil {
		db.Close()
		return fail(err)
	}
	// Every endpoint but /healthz and /readyz needs a credential: a viewer
	// token for Grafana and curl, and an admin token for the records API.
	viewerToken, _, err := db.CreateAPIToken(ctx, "grafana", statedb.RoleViewer, nil, time.Time{}, "demo: Grafana and curl")
	if err != nil {
		db.Close()
		return fail(err)
	}
	adminToken, _, err := db.CreateAPIToken(ctx, "demo-admin", statedb.RoleAdmin, nil, time.Time{}, "demo: the records API")
	if err != nil {
		db.Close()
		return fail(err)
	}
	// Two users for the web UI (/ui/): the NOC's admin and an OPD's viewer.
	adminPW, dinkesPW := demoPassword(), demoPassword()
	if _, err = db.AddUser(ctx, statedb.User{Name: "admin", Role: statedb.RoleAdmin}, adminPW); err == nil {
		_, err = db.AddUser(ctx, statedb.User{Name: "dinkes", Role: statedb.RoleViewer, OPDs: []string{"dinkes"}}, dinkesPW)
	}
	db.Close()
	if err != nil {
		return fail(err)
	}

	start := time.Now()
	client := &http.Client{Timeout: 30 * time.Second}
	// Backfill history, then write live.
	for _, s := range sites {
		var buf bytes.Buffer
		for t := start.Add(-o.History); t.Before(start); t = t.Add(o.Interval) {
			s.siteLines(&buf, t)
		}
		if err := demoPost(ctx, client, base, tokens[s.id], "agent-"+s.id, 0, buf.Bytes()); err != nil {
			return fail(fmt.Errorf("demo backfill for %s: %w", s.id, err))
		}
	}
	var nocBuf bytes.Buffer
	for t, prev := start.Add(-o.History), (time.Time{}); t.Before(start); prev, t = t, t.Add(o.Interval) {
		for _, s := range sites {
			s.nocLines(&nocBuf, t, prev)
		}
		serviceLines(&nocBuf, t, svc)
	}
	if err := demoPost(ctx, client, base, nocToken, demoNOCAgent, 0, nocBuf.Bytes()); err != nil {
		return fail(fmt.Errorf("demo backfill for the NOC's agent: %w", err))
	}

	// The NOC's agent: a real pantau-agent polling the simulated routers
	// and checking the services with the bundled plugins.
	var agentProc *demoAgentProc
	if agentBin != "" {
		agentProc, err = startDemoAgent(cfg.DataDir, agentBin, plugDir, base, nocToken, snmpAgent.Addr(), svc, sites, o.Interval)
		if err != nil {
			logger.Warn("the demo's agent did not start; its data is simulated instead", "err", err)
			agentNote = "not running (" + err.Error() + "); its SNMP and service data are simulated"
			agentProc = nil
		} else {
			agentNote = fmt.Sprintf("%s (pid %d), log %s", agentBin, agentProc.cmd.Process.Pid, agentProc.logPath)
		}
	}

	// --duration bounds the live phase, after the backfill.
	liveCtx := ctx
	if o.Duration > 0 {
		var cancel context.CancelFunc
		liveCtx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	wit := time.FixedZone("WIT", 9*3600)
	fmt.Fprintf(stdout, `Pantau demo collector is running on %[1]s (data in %[2]s).
%[3]d simulated sites write every %[4]s; %[5]s of history was backfilled.
NOC agent: %[8]s
Simulated routers (SNMP v2c, community rtr-<site>): %[9]s; services: %[10]s, %[11]s, mail %[12]s

Web UI:       %[1]s/ui/  (log in as admin / %[16]s, or as the Dinas Kesehatan viewer dinkes / %[17]s)
Viewer token: %[14]s
Admin token:  %[15]s
  (every endpoint but /healthz and /readyz needs a token; these are shown once)

  export PANTAU_TOKEN=%[14]s
  Grafana data source:     type Prometheus, URL %[1]s, basic auth user grafana, password the viewer token
                           (or provision deploy/grafana and copy dashboards/*.json: see deploy/grafana/README.md)
  SPBE report (HTML):      curl -s -H "Authorization: Bearer $PANTAU_TOKEN" -o laporan.html '%[1]s/api/v1/report?period=%[7]s..%[7]s&format=html'
  Incidents today (CSV):   curl -s -H "Authorization: Bearer $PANTAU_TOKEN" '%[1]s/api/v1/report?period=%[7]s..%[7]s&format=csv&table=incidents'
  Link states (SLA):       curl -s -u grafana:$PANTAU_TOKEN '%[1]s/api/v1/query?query=pantau_link_state==1'
  Services:                curl -s -u grafana:$PANTAU_TOKEN '%[1]s/api/v1/query?query=pantau_service_state==1'
  Alerts (default rules):  curl -s -u grafana:$PANTAU_TOKEN %[1]s/api/v1/alerts   (notifications: %[13]s)
  Latency per site:        curl -s -u grafana:$PANTAU_TOKEN '%[1]s/api/v1/query?query=pantau_icmp_rtt_avg_seconds'
  Collector metrics:       curl -s -u grafana:$PANTAU_TOKEN %[1]s/metrics | grep pantau_collector_ingest
  Audit log (admin):       curl -s -H "Authorization: Bearer %[15]s" %[1]s/api/v1/audit
  Write your own point:    curl -i -H "Authorization: Token %[6]s" \
                             --data-binary 'icmp,target=127.0.0.1 loss_ratio=0,up=1i' '%[1]s/api/v2/write?precision=ns'

Press Ctrl-C to stop.
`, base, cfg.DataDir, len(sites), o.Interval, o.History, tokens["noc-kominfo"], time.Now().In(wit).Format("2006-01-02"),
		agentNote, snmpAgent.Addr(), svc.PortalURL, svc.EOfficeURL, svc.MailAddr, hook.File, viewerToken, adminToken, adminPW, dinkesPW)

	var wg sync.WaitGroup
	live := func(write func(buf *bytes.Buffer, now, prev time.Time), token, agent string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(o.Interval)
			defer t.Stop()
			var seq uint64
			prev := start
			for {
				select {
				case <-liveCtx.Done():
					return
				case now := <-t.C:
					seq++
					var buf bytes.Buffer
					write(&buf, now, prev)
					prev = now
					if err := demoPost(liveCtx, client, base, token, agent, seq, buf.Bytes()); err != nil && liveCtx.Err() == nil {
						logger.Warn("demo write failed", "agent", agent, "err", err)
					}
				}
			}
		}()
	}
	for _, s := range sites {
		live(func(buf *bytes.Buffer, now, _ time.Time) { s.siteLines(buf, now) }, tokens[s.id], "agent-"+s.id)
	}
	if agentProc == nil {
		live(func(buf *bytes.Buffer, now, prev time.Time) {
			for _, s := range sites {
				s.nocLines(buf, now, prev)
			}
			serviceLines(buf, now, svc)
		}, nocToken, demoNOCAgent)
	}
	wg.Wait()
	var agentErr error
	if agentProc != nil {
		agentErr = agentProc.stop()
	}
	stopRun()
	err = <-runErr
	<-snmpDone
	if err == nil && agentErr != nil {
		err = agentErr
	}
	return err
}

func demoPost(ctx context.Context, c *http.Client, base, token, agent string, seq uint64, body []byte) error {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(body)
	zw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/write?precision=ns", &zb)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Content-Encoding", "gzip")
	if seq > 0 {
		req.Header.Set("Pantau-Batch", fmt.Sprintf("%s/%d", agent, seq))
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("write to %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("write to %s: %s: %s", base, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// demoPassword is a random password for a demo user (16 characters of
// a lower-case base32 alphabet, 80 bits).
func demoPassword() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}
