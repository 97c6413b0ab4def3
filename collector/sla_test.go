package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/collector/internal/storage"
	"github.com/pantau-noc/pantau/internal/testproc"
)

const slaTestInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, sla_target: 99.5}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}, snmp: {device: rtr-dinkes, interface: ether1}}
`

func (tc *testCollector) get(path string) (int, string) {
	tc.t.Helper()
	res, err := tc.httpCli.Get(tc.base + path)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestIntegrationSLAFromIngest writes ICMP rounds and heartbeats to a
// running collector with an inventory, and checks the minute states, the
// current-state series, the report API, replay idempotence, the
// inventory reload and the CLI commands that read beside the daemon.
func TestIntegrationSLAFromIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: waits for two inventory reloads (10 s each)")
	}
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slaTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	var cfgPath string
	tc := startCollector(t, func(c *config.Config) {
		c.Inventory = invPath
		cfgPath = filepath.Join(dir, "collector.yml")
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("data_dir: %s\ninventory: %s\n", c.DataDir, invPath)), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	tok := tc.token("agent-1", "dinkes")

	// 20 minutes of rounds every 30 s ending in the previous whole minute;
	// minutes 10-12 back are down.
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	var body strings.Builder
	for i := 0; i < 40; i++ {
		ts := end.Add(-time.Duration(i) * 30 * time.Second)
		back := int(end.Sub(ts.Truncate(time.Minute)) / time.Minute)
		up := 1
		if back >= 10 && back <= 12 {
			up = 0
		}
		if up == 1 {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(&body, "icmp,target=127.0.0.2 packets_sent=5u,packets_received=0u,loss_ratio=1,up=0i %d\n", ts.Unix())
		}
		fmt.Fprintf(&body, "icmp,target=127.0.0.9 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		fmt.Fprintf(&body, "agent,version=t uptime_seconds=%d %d\n", 100+i, ts.Unix())
		// 5 Mbit/s in and 1 Mbit/s out on the link's interface: 25 % and 5 % of 20 Mbit/s
		fmt.Fprintf(&body, "snmp_if,device=rtr-dinkes,ifname=ether1,ifindex=1 receive_bits_per_second=5000000,transmit_bits_per_second=1000000,speed_bits_per_second=100000000u %d\n", ts.Unix())
	}
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, msg)
	}

	// the link's series carry the inventory labels; the unmatched target's do not
	if v := tc.query(`pantau_icmp_up{link="dinkes-wan",site="dinkes",opd="dinkes",target="127.0.0.2"}`, end); len(v) != 1 {
		t.Errorf("inventory labels missing on the link's series: %v", v)
	}
	if v := tc.query(`pantau_icmp_up{target="127.0.0.9",link=""}`, end); len(v) != 1 {
		t.Errorf("unmatched series: %v", v)
	}
	_, metrics := tc.get("/metrics")
	if !strings.Contains(metrics, `pantau_link_state{district="",link="dinkes-wan",opd="dinkes",site="dinkes",state="up"} 1`) {
		t.Errorf("current state not exported as up:\n%s", testproc.GrepLines(metrics, "pantau_link_state"))
	}

	wib, _ := time.LoadLocation("Asia/Jakarta")
	day := func(t time.Time) string { return t.In(wib).Format("2006-01-02") }
	period := day(end.Add(-time.Hour)) + ".." + day(end)
	fetch := func() report.LinkRow {
		code, js := tc.get("/api/v1/report?format=json&period=" + period)
		if code != 200 {
			t.Fatalf("report API: %d %s", code, js)
		}
		var r report.Report
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		for _, l := range r.Links {
			if l.Link == "dinkes-wan" {
				return l
			}
		}
		t.Fatalf("report has no link dinkes-wan: %+v", r.Links)
		return report.LinkRow{}
	}
	l := fetch()
	// capacity comes from the TSDB by the link's SNMP device and interface
	_, js := tc.get("/api/v1/report?format=json&period=" + period)
	var full report.Report
	if err := json.Unmarshal([]byte(js), &full); err != nil {
		t.Fatal(err)
	}
	if c := full.Capacity; len(c) != 2 || c[0].Samples != 40 || c[0].MeanBps != 5e6 || c[0].CapacitySource != "contract" ||
		c[0].MeanUtilization == nil || *c[0].MeanUtilization != 25 || c[1].MeanBps != 1e6 || *c[1].PeakUtilization != 5 {
		t.Errorf("capacity rows %+v", c)
	}
	// 21 minutes with data (end-20 … end, the first and last with one
	// round each), 3 down, 18 up; the minute or two since, while the
	// collector ran, are nodata; before it started, monitoring gaps,
	// never outages.
	// (The period is one WIB day, or two when the hour before end crosses
	// WIB midnight: 17:00-18:00 UTC.)
	minutes := 1440.0
	if day(end.Add(-time.Hour)) != day(end) {
		minutes = 2 * 1440
	}
	if l.Up != 18 || l.Down != 3 || l.Degraded != 0 || l.NoData < 1 || l.NoData > 2 || l.Monitoring != minutes-21-l.NoData || l.Outages != 1 {
		t.Errorf("link figures %+v", l.Figures)
	}
	// an agent at the site kept sending heartbeats: the ISP's outage
	if l.DowntimeByCause["isp"] != 3 {
		t.Errorf("downtime by cause %v, want isp 3", l.DowntimeByCause)
	}

	// replaying the batch changes nothing
	if code, msg := tc.write(tok, body.String()); code != http.StatusNoContent {
		t.Fatalf("replay: %d %s", code, msg)
	}
	if l2 := fetch(); l2.Figures.Up != l.Up || l2.Down != l.Down || l2.Outages != l.Outages {
		t.Errorf("replay changed the figures: %+v then %+v", l.Figures, l2.Figures)
	}

	// the CLI reads beside the running daemon
	code, out, errOut := cli(t, "inventory", "unmatched", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "127.0.0.9") || strings.Contains(out, "127.0.0.2") {
		t.Errorf("inventory unmatched: exit %d\n%s\n%s", code, out, errOut)
	}
	htmlOut := filepath.Join(dir, "r.json")
	code, _, errOut = cli(t, "report", "--config", cfgPath, "--period", period, "--format", "json", "--out", htmlOut)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(htmlOut)
	var fromCLI report.Report
	if err := json.Unmarshal(b, &fromCLI); err != nil || len(fromCLI.Links) != 1 || fromCLI.Links[0].Down != 3 {
		t.Errorf("CLI report: %v %+v", err, fromCLI.Links)
	}

	// maintenance through the CLI shows in the API
	code, _, errOut = cli(t, "maintenance", "add", "--config", cfgPath, "--scope", "link", "--target", "dinkes-wan",
		"--start", end.Add(-12*time.Minute).In(wib).Format("2006-01-02T15:04"), "--end", end.Add(-9*time.Minute).In(wib).Format("2006-01-02T15:04"),
		"--reason", "ganti kabel")
	if code != 0 {
		t.Fatalf("maintenance add: %d %s", code, errOut)
	}
	if _, js := tc.get("/api/v1/maintenance"); !strings.Contains(js, "ganti kabel") {
		t.Errorf("maintenance API: %s", js)
	}
	// retroactive: the down minutes are now maintenance
	if l3 := fetch(); l3.Down != 0 || l3.Maint != 3 {
		t.Errorf("after the maintenance window: %+v", l3.Figures)
	}

	// a bad inventory is rejected and the old one stays; a good one is
	// picked up without a restart
	if err := os.WriteFile(invPath, []byte("sites: [{id: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 30*time.Second, "the rejected reload to be logged", func() bool { return strings.Contains(tc.logs.String(), "inventory reload rejected") })
	if _, m := tc.get("/metrics"); !strings.Contains(m, "pantau_inventory_links 1") {
		t.Error("a rejected inventory replaced the loaded one")
	}
	good := slaTestInventory + "  - {id: extra, site: dinkes, type: radio, icmp: {target: 127.0.0.9}}\n"
	if err := os.WriteFile(invPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 30*time.Second, "the inventory to reload", func() bool {
		_, m := tc.get("/metrics")
		return strings.Contains(m, "pantau_inventory_links 2")
	})
	// the new link's earlier data (written before it was in the inventory)
	// has no minute states until a rebuild claims it, beside the daemon
	extra := func() report.LinkRow {
		_, js := tc.get("/api/v1/report?format=json&period=" + period)
		var r report.Report
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		for _, l := range r.Links {
			if l.Link == "extra" {
				return l
			}
		}
		t.Fatalf("no link extra in the report")
		return report.LinkRow{}
	}
	if e := extra(); e.Up != 0 {
		t.Fatalf("extra has states before the rebuild: %+v", e.Figures)
	}
	// 20 minutes of capacity samples an hour into the rebuild's first day
	// (two days back, in the Pemda's zone the CLI reads dates in: the
	// inventory's WIB, so a UTC day that has ended): the rebuild stores
	// their rollup
	fromDay := end.Add(-48 * time.Hour).In(wib).Format("2006-01-02")
	from, _ := time.ParseInLocation("2006-01-02", fromDay, wib)
	var old strings.Builder
	for i := range 20 {
		fmt.Fprintf(&old, "snmp_if,device=rtr-dinkes,ifname=ether1,ifindex=1 receive_bits_per_second=2000000,transmit_bits_per_second=400000,speed_bits_per_second=100000000u %d\n",
			from.Add(time.Hour+time.Duration(i)*time.Minute).Unix())
	}
	if code, msg := tc.write(tok, old.String()); code != http.StatusNoContent {
		t.Fatalf("write of older samples: %d %s", code, msg)
	}
	code, out, errOut = cli(t, "sla", "rebuild", "--config", cfgPath, "--from", fromDay)
	if code != 0 || !strings.Contains(out, "rebuilt minute states") || !strings.Contains(out, "rebuilt capacity rollups of 1 links") {
		t.Fatalf("sla rebuild: %d %s %s", code, out, errOut)
	}
	st, err := statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	utcDay := from.Add(time.Hour).UnixMilli() / 86400000
	rx, tx, err := st.Rollups(context.Background(), "dinkes-wan", utcDay, utcDay, nil)
	st.Close()
	if err != nil || len(rx) != 1 || len(tx) != 1 {
		t.Fatalf("stored rollups of day %d: %d in, %d out, %v", utcDay, len(rx), len(tx), err)
	}
	var n int
	for _, c := range rx[0].N {
		n += int(c)
	}
	if n != 20 || rx[0].Speed != 1e8 {
		t.Errorf("rollup holds %d samples, speed %v; want 20, 1e8", n, rx[0].Speed)
	}
	// the report of that day reads the stored rollup: 2 Mbit/s in of 20
	pastDay := day(from.Add(time.Hour))
	_, js = tc.get("/api/v1/report?format=json&period=" + pastDay + ".." + pastDay)
	var past report.Report
	if err := json.Unmarshal([]byte(js), &past); err != nil {
		t.Fatal(err)
	}
	if c := past.Capacity; len(c) != 2 || c[0].Samples != 20 || c[0].MeanBps != 2e6 || *c[0].MeanUtilization != 10 || c[1].MeanBps != 4e5 {
		t.Errorf("capacity of %s from the rollup: %+v", pastDay, c)
	}
	if e := extra(); e.Up != 21 || e.Down != 0 {
		t.Errorf("extra after the rebuild: %+v", e.Figures)
	}
	// dinkes-wan is unchanged (the rebuild ORs what was there), and the
	// daemon's next merge keeps the rebuild's bits
	if l4 := fetch(); l4.Up != 18 || l4.Maint != 3 {
		t.Errorf("dinkes-wan after the rebuild: %+v", l4.Figures)
	}
}

const slotTestInventory = `
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIB, sla_target: 99.5}
links:
  - id: dinkes-wan
    site: dinkes
    type: fibre
    icmp: {target: 127.0.0.2}
    contract: {target: 99.5, min_outage: 300s, monthly_fee: 15000000, restitution: proportional}
`

// TestIntegrationSLAToTheSlot writes ICMP rounds every 10 s (at second 5)
// to a running collector, with the link cut for 180 s from second 30 of a
// minute M to second 30 of M+3, out of order and then replayed. The
// report API must show one outage of 180 s from M+30 s (the first failed
// round's slot) with 180 down seconds, availability over the seconds, and
// the contract row of the whole calendar month, not final while the month
// runs. Then `sla rebuild`'s marks from the stored samples equal those
// made at ingest.
func TestIntegrationSLAToTheSlot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(slotTestInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = invPath })
	tok := tc.token("agent-1", "dinkes")
	wib, _ := time.LoadLocation("Asia/Jakarta")
	// 20 minutes of rounds ending two minutes ago, all in one WIB day
	end := time.Now().Truncate(time.Minute).Add(-2 * time.Minute)
	if end.In(wib).Hour() == 0 && end.In(wib).Minute() < 25 {
		end = end.Add(-30 * time.Minute)
	}
	start := end.Add(-20 * time.Minute)
	m := start.Add(8 * time.Minute)
	cutFrom, cutTo := m.Add(30*time.Second), m.Add(3*time.Minute+30*time.Second)
	var first, second strings.Builder
	for ts := start.Add(5 * time.Second); ts.Before(end); ts = ts.Add(10 * time.Second) {
		b := &first
		if ts.After(m.Add(2 * time.Minute)) {
			b = &second
		}
		if ts.Before(cutFrom) || !ts.Before(cutTo) {
			fmt.Fprintf(b, "icmp,target=127.0.0.2 packets_sent=1u,packets_received=1u,loss_ratio=0,rtt_avg_seconds=0.004,up=1i %d\n", ts.Unix())
		} else {
			fmt.Fprintf(b, "icmp,target=127.0.0.2 packets_sent=1u,packets_received=0u,loss_ratio=1,up=0i %d\n", ts.Unix())
		}
		fmt.Fprintf(b, "agent,version=t uptime_seconds=%d %d\n", ts.Unix()-start.Unix(), ts.Unix())
	}
	// the later half first (an agent's backlog), then the earlier, then all again
	for _, body := range []string{second.String(), first.String(), first.String() + second.String()} {
		if code, msg := tc.write(tok, body); code != http.StatusNoContent {
			t.Fatalf("write: %d %s", code, msg)
		}
	}
	day := m.In(wib).Format("2006-01-02")
	code, js := tc.get("/api/v1/report?format=json&period=" + day + ".." + day)
	if code != 200 {
		t.Fatalf("report API: %d %s", code, js)
	}
	var rep struct {
		Summary struct {
			Restitution int64 `json:"restitution"`
		} `json:"summary"`
		Links []struct {
			Link         string   `json:"link"`
			Down         float64  `json:"down"`
			UpSeconds    int64    `json:"up_seconds"`
			DownSeconds  int64    `json:"down_seconds"`
			Availability *float64 `json:"availability_pct"`
		} `json:"links"`
		Incidents []struct {
			Start           time.Time `json:"start"`
			End             time.Time `json:"end"`
			DurationMinutes float64   `json:"duration_minutes"`
			DurationSeconds int64     `json:"duration_seconds"`
			DownSeconds     int64     `json:"down_seconds"`
		} `json:"incidents"`
		Contracts []struct {
			Month          string `json:"month"`
			PeriodMinutes  int    `json:"period_minutes"`
			CountedSeconds int64  `json:"counted_seconds"`
			Final          bool   `json:"final"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Incidents) != 1 || len(rep.Links) != 1 || len(rep.Contracts) != 1 {
		t.Fatalf("report: links %+v incidents %+v contracts %+v", rep.Links, rep.Incidents, rep.Contracts)
	}
	in, l, c := rep.Incidents[0], rep.Links[0], rep.Contracts[0]
	if !in.Start.Equal(cutFrom) || !in.End.Equal(cutTo) || in.DurationSeconds != 180 || in.DownSeconds != 180 || in.DurationMinutes != 3 {
		t.Errorf("incident %+v, want %s–%s, 180 s", in, cutFrom.Format(time.TimeOnly), cutTo.Format(time.TimeOnly))
	}
	if l.DownSeconds != 180 || l.Down != 3 || l.Availability == nil || *l.Availability != 100*float64(l.UpSeconds)/float64(l.UpSeconds+180) {
		t.Errorf("link %+v", l)
	}
	// the month of M in WIB, whole: not final until it has ended
	mStart := time.Date(m.In(wib).Year(), m.In(wib).Month(), 1, 0, 0, 0, 0, wib)
	mEnd := mStart.AddDate(0, 1, 0)
	if c.Month != mStart.Format("2006-01") || c.PeriodMinutes != int(mEnd.Sub(mStart)/time.Minute) || c.CountedSeconds != 0 ||
		c.Final != !mEnd.After(time.Now()) || rep.Summary.Restitution != 0 {
		t.Errorf("contract row %+v (an outage of 180 s is under min_outage 300 s)", c)
	}

	// sla rebuild makes the marks ingest made, from the stored samples
	tc.stop()
	st, err := statedb.Open(context.Background(), tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	from, n := sla.MinuteOf(start.UnixNano()), int(end.Sub(start)/time.Minute)
	ingested, err := st.Minutes().Range(context.Background(), sla.KindLink, "dinkes-wan", from, n)
	if err != nil {
		t.Fatal(err)
	}
	q, err := storage.OpenReadOnly(filepath.Join(tc.cfg.DataDir, "tsdb"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	inv, err := inventory.Parse(invPath, []byte(slotTestInventory))
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := sla.NewMemStore()
	if _, _, err := sla.Rebuild(context.Background(), q, inv, sla.WriteScopes{}, rebuilt, start, end, func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	got, _ := rebuilt.Range(context.Background(), sla.KindLink, "dinkes-wan", from, n)
	if !slices.Equal(got, ingested) {
		t.Errorf("sla rebuild's minutes differ from ingest's:\n%016b\n%016b", got, ingested)
	}
	if s := sla.SlotStates(ingested, nil)[8]; s.Mask(sla.Down) != 0b111000 {
		t.Errorf("minute M's slots %x, want the last three down", s)
	}
}

// A resolved link_down alert asks for the link's outage to the slot:
// rounds every 10 s at second 5 down from 10:00:35 to 10:03:45 give
// 10:00:30–10:03:50.
func TestExplainLinkOutagesToTheSlot(t *testing.T) {
	ctx := context.Background()
	r, db := testSLARuntime(t, slotTestInventory)
	wib := time.FixedZone("WIB", 7*3600)
	t0 := time.Date(2026, 10, 10, 10, 0, 0, 0, wib)
	var marks []sla.Mark
	for ts := t0.Add(-10*time.Minute + 5*time.Second); ts.Before(t0.Add(10 * time.Minute)); ts = ts.Add(10 * time.Second) {
		up := ts.Before(t0.Add(35*time.Second)) || ts.After(t0.Add(3*time.Minute+45*time.Second))
		marks = r.builder.ICMP(marks, "agent-1", "", "127.0.0.2", ts.UnixNano(), up, 0, 0.004, up)
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: sla.MinuteOf(ts.UnixNano()), Bits: sla.BitSeen})
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	got, err := r.explainLinkOutages(ctx, "dinkes-wan", t0.Add(time.Minute), t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Start.Equal(t0.Add(30*time.Second)) || !got[0].End.Equal(t0.Add(3*time.Minute+50*time.Second)) {
		t.Fatalf("outages %+v, want 10:00:30–10:03:50", got)
	}
}

// testSLARuntime is the daemon's SLA runtime on a new data directory
// with an inventory.
func testSLARuntime(t testing.TB, inventory string) (*slaRuntime, *statedb.DB) {
	t.Helper()
	dir := t.TempDir()
	invPath := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(invPath, []byte(inventory), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Inventory = dir, invPath
	db, err := statedb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r, err := newSLARuntime(context.Background(), cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r, db
}
