package loadgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/inventory"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

func TestProvinceInventory(t *testing.T) {
	p := NewProvince(3, 5)
	data, err := p.InventoryYAML()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inventory.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(inv.Links), 15; got != want {
		t.Fatalf("links: got %d, want %d", got, want)
	}
	if got, want := len(inv.Devices), 9; got != want { // ceil(5/2) sites per agent
		t.Fatalf("devices: got %d, want %d", got, want)
	}
	targets := map[string]bool{}
	for _, a := range p.Agents {
		if len(a.Links) != 5 {
			t.Fatalf("agent %s has %d links", a.ID, len(a.Links))
		}
		for _, l := range a.Links {
			if targets[l.Target] {
				t.Fatalf("target %s twice", l.Target)
			}
			targets[l.Target] = true
			// The series an agent writes find their link as the collector
			// looks them up.
			if m := inv.MatchICMP("", a.ID, l.Target); m == nil || m.ID != l.ID {
				t.Fatalf("icmp %s of %s matches %v, want link %s", l.Target, a.ID, m, l.ID)
			}
		}
		for _, d := range a.Devices {
			for _, ifc := range d.Interfaces {
				if m := inv.MatchSNMP("", d.ID, ifc.Name); m == nil || m.Site != d.Site {
					t.Fatalf("snmp %s %s matches %v", d.ID, ifc.Name, m)
				}
			}
		}
	}
}

// TestSimAgentLines decodes what a simulated agent sends: valid line
// protocol, sorted tags, and as many lines and fields per measurement as
// it counted.
func TestSimAgentLines(t *testing.T) {
	p := NewProvince(1, 6)
	o := ScaleOptions{Agents: 1, LinksPerAgent: 6, Duration: time.Second}
	if err := o.fill(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := newSimAgent(&p.Agents[0], 0, now, &o)
	out := make(chan *batch, 10)
	jobs := s.jobs()
	for round := range 2 { // the second SNMP poll has rates
		at := now.Add(time.Duration(round) * time.Minute)
		for _, j := range jobs {
			j.run(at)
		}
		if err := s.enc.Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.flush(t.Context(), at, out); err != nil {
			t.Fatal(err)
		}
	}
	close(out)
	var want, got Counts
	for b := range out {
		want.add(&b.counts)
		zr, err := gzip.NewReader(bytes.NewReader(b.body))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		dec := lineprotocol.NewDecoderWithBytes(body)
		for dec.Next() {
			m, err := dec.Measurement()
			if err != nil {
				t.Fatal(err)
			}
			idx := -1
			for i, n := range measurementNames {
				if n == string(m) {
					idx = i
				}
			}
			if idx < 0 {
				t.Fatalf("unexpected measurement %q", m)
			}
			prev := ""
			for {
				k, _, err := dec.NextTag()
				if err != nil {
					t.Fatal(err)
				}
				if k == nil {
					break
				}
				if string(k) <= prev {
					t.Fatalf("%s: tag %s after %s", m, k, prev)
				}
				prev = string(k)
			}
			for {
				k, _, err := dec.NextField()
				if err != nil {
					t.Fatal(err)
				}
				if k == nil {
					break
				}
				got.Samples[idx]++
			}
			if _, err := dec.Time(lineprotocol.Nanosecond, time.Time{}); err != nil {
				t.Fatal(err)
			}
			got.Points[idx]++
		}
	}
	if got != want {
		t.Fatalf("decoded %+v, counted %+v", got, want)
	}
	// 6 links, 3 routers with 2 interfaces, 1 heartbeat, twice.
	if want := [numMeasurements]int64{12, 12, 6, 2}; got.Points != want {
		t.Fatalf("points %v, want %v", got.Points, want)
	}
}

func TestSplayMatchesAgentScheduler(t *testing.T) {
	// Values of agent/internal/scheduler.Splay, which splay copies (the
	// agent's internal packages cannot be imported from here).
	for _, tc := range []struct {
		kind, name string
		interval   time.Duration
		want       time.Duration
	}{
		{"icmp", "10.0.0.1", 30 * time.Second, 15710 * time.Millisecond},
		{"snmp", "rtr-s000-00", time.Minute, 10060 * time.Millisecond},
		{"agent", "heartbeat", 30 * time.Second, 29760 * time.Millisecond},
		{"icmp", "10.0.19.136", 10 * time.Second, 6530 * time.Millisecond},
	} {
		if got := splay(tc.kind, tc.name, tc.interval); got != tc.want {
			t.Errorf("splay(%s, %s, %s) = %s, want %s", tc.kind, tc.name, tc.interval, got, tc.want)
		}
	}
}

// TestIntegrationScaleSmall runs 10 agents × 20 links against a real
// collector for about 20 s and checks that every point sent is stored.
// The agents' intervals are shorter than in the field (ICMP every 4 s,
// SNMP every 8 s, at the field's 1:2) so that the warm-up and a window
// of two ICMP rounds and one SNMP poll take 20 s, not 40.
func TestIntegrationScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds and starts pantau-collector (about 25 s)")
	}
	bin := testbuild.Collector(t)
	ctx := t.Context()
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	p := NewProvince(10, 20)
	inv, err := p.InventoryYAML()
	if err != nil {
		t.Fatal(err)
	}
	agents := make([]AgentToken, len(p.Agents))
	for i, a := range p.Agents {
		agents[i] = AgentToken{ID: a.ID, Sites: a.Sites}
	}
	col, err := StartCollector(ctx, CollectorOptions{Bin: bin, WorkDir: t.TempDir(), Agents: agents, Inventory: inv})
	if col != nil {
		t.Cleanup(col.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	o := ScaleOptions{Agents: 10, LinksPerAgent: 20, Duration: 8 * time.Second,
		ICMPInterval: 4 * time.Second, SNMPInterval: 8 * time.Second, Progress: 10 * time.Second, Logger: log}
	res, err := RunScale(ctx, p, col.Target, Target{}, o)
	var rep strings.Builder
	res.Report(&rep)
	t.Log("\n" + rep.String())
	if err != nil {
		t.Fatal(err)
	}

	// Every request succeeded and every point was sent.
	tot := res.Total
	if tot.Failed != 0 || res.Failed != 0 || res.FirstError != "" {
		t.Fatalf("%d requests failed; first: %s", tot.Failed, res.FirstError)
	}
	if tot.Unsent.TotalPoints() != 0 || tot.Acked != tot.Generated {
		t.Fatalf("generated %+v, acknowledged %+v, not sent %+v", tot.Generated, tot.Acked, tot.Unsent)
	}
	for m := range numMeasurements {
		if tot.Acked.Points[m] == 0 {
			t.Fatalf("no %s points sent", m)
		}
	}

	// The collector counted and stored each of them.
	metrics := scrape(t, col.BaseURL+"/metrics", col.Target.ReadToken)
	for name, want := range map[string]int64{
		"pantau_collector_ingest_points_total":                        tot.Acked.TotalPoints(),
		"pantau_collector_ingest_samples_total":                       tot.Acked.TotalSamples(),
		`pantau_collector_ingest_requests_total{api="v2",code="204"}`: int64(tot.Requests),
		`pantau_collector_ingest_batches_total{result="stored"}`:      int64(tot.Requests),
	} {
		if got, ok := metrics[name]; !ok || int64(got) != want {
			t.Errorf("%s = %v (present %v), want %d", name, got, ok, want)
		}
	}
	for m, q := range map[Measurement]string{
		ICMP:           `sum(count_over_time(pantau_icmp_packets_sent[1h]))`,
		SNMPIf:         `sum(count_over_time(pantau_snmp_if_admin_status[1h]))`,
		SNMPDevice:     `sum(count_over_time(pantau_snmp_device_up[1h]))`,
		AgentHeartbeat: `sum(count_over_time(pantau_agent_uptime_seconds[1h]))`,
	} {
		if got := query(t, col.BaseURL, col.Target.ReadToken, q); int64(got) != tot.Acked.Points[m] {
			t.Errorf("%s: %v, want %d %s points", q, got, tot.Acked.Points[m], m)
		}
	}
	var stored float64
	names := labelValues(t, col.BaseURL, col.Target.ReadToken, "__name__")
	for _, name := range names {
		for _, m := range measurementNames {
			if strings.HasPrefix(name, "pantau_"+m+"_") {
				stored += query(t, col.BaseURL, col.Target.ReadToken, "sum(count_over_time("+name+"[1h]))")
			}
		}
	}
	if int64(stored) != tot.Acked.TotalSamples() {
		t.Errorf("stored samples: %v, want %d (metric names: %v)", stored, tot.Acked.TotalSamples(), names)
	}
	// The SLA engine matched every link: its ICMP and SNMP series carry
	// the inventory's labels.
	for _, q := range []string{
		`count(count by (link) (pantau_icmp_up{opd!="", link!=""}))`,
		`count(count by (link) (pantau_snmp_if_oper_status{opd!="", link!=""}))`,
	} {
		if got := query(t, col.BaseURL, col.Target.ReadToken, q); int(got) != p.Links() {
			t.Errorf("%s = %v, want %d links", q, got, p.Links())
		}
	}

	// Latency and process figures are there and sane.
	if res.Requests == 0 || res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.Max > 30*time.Second {
		t.Errorf("latency: %d requests, p50 %s, p99 %s, max %s", res.Requests, res.P50, res.P99, res.Max)
	}
	if res.PointsPerSec <= 0 || res.SamplesPerSec <= res.PointsPerSec {
		t.Errorf("throughput: %.1f points/s, %.1f samples/s", res.PointsPerSec, res.SamplesPerSec)
	}
	if res.CollectorCPUPercent <= 0 || res.CollectorPeakRSS < 1<<20 {
		t.Errorf("collector: CPU %.2f %%, peak RSS %d bytes", res.CollectorCPUPercent, res.CollectorPeakRSS)
	}
}

// scaleWindow is BenchmarkProvincialScale's measured window.
var scaleWindow = flag.Duration("scale.window", 3*time.Minute, "measured window of BenchmarkProvincialScale")

// BenchmarkProvincialScale is the provincial scale: 100 agents ×
// 50 links = 5,000 links (ICMP every 30 s, SNMP every 60 s, 2,500
// routers) against a real collector, 3 minutes measured after the
// 64 s warm-up (-args -scale.window changes it). Run it alone (it takes
// about 4.5 minutes on two cores):
//
//	go test -run XXX -bench ProvincialScale -benchtime 1x -timeout 20m ./collector/internal/loadgen/
func BenchmarkProvincialScale(b *testing.B) {
	if testing.Short() {
		b.Skip("starts pantau-collector for minutes")
	}
	bin := testbuild.Collector(b)
	log := slog.New(slog.NewTextHandler(b.Output(), nil))
	var res ScaleResult
	for b.Loop() {
		var err error
		res, err = Scale(b.Context(), ScaleOptions{Collector: bin, Agents: 100, LinksPerAgent: 50, Duration: *scaleWindow, Logger: log})
		var rep strings.Builder
		res.Report(&rep)
		b.Log("\n" + rep.String())
		if err != nil {
			b.Fatal(err)
		}
		if res.Total.Failed > 0 {
			b.Fatalf("%d requests failed; first: %s", res.Total.Failed, res.FirstError)
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(res.Links), "links")
	b.ReportMetric(res.PointsPerSec, "points/s")
	b.ReportMetric(res.SamplesPerSec, "samples/s")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(res.Max.Microseconds())/1000, "max_ms")
	b.ReportMetric(res.CollectorCPUPercent, "collector_cpu_pct")
	b.ReportMetric(float64(res.CollectorPeakRSS)/(1<<20), "collector_rss_MiB")
}

// scrape reads a Prometheus text exposition into series → value.
func scrape(t *testing.T, u, token string) map[string]float64 {
	t.Helper()
	res, err := get(u, token)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// labelValues lists the values of a label on the collector's API.
func labelValues(t *testing.T, base, token, label string) []string {
	t.Helper()
	res, err := get(base+"/api/v1/label/"+label+"/values", token)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Status string
		Data   []string
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("label %s values: %v (status %q)", label, err, r.Status)
	}
	return r.Data
}

// query evaluates an instant PromQL query on the collector's API and
// returns its single value (0 for an empty result).
func query(t *testing.T, base, token, q string) float64 {
	t.Helper()
	res, err := get(base+"/api/v1/query?query="+url.QueryEscape(q), token)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct {
			ResultType string
			Result     []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: %s", q, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0
	}
	if len(r.Data.Result) > 1 {
		t.Fatalf("query %s: %d series, want one", q, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q: %v", q, s, err)
	}
	return v
}

// get GETs u with the collector's read token.
func get(u, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}
