package report

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// spanStore is a MemStore that also keeps declared monitored spans.
type spanStore struct {
	*sla.MemStore
	spans []sla.Span
}

func (s spanStore) MonitoredSpans(context.Context) ([]sla.Span, error) { return s.spans, nil }

// A deployment that starts mid-quarter: the links of dinkes and Distrik
// Aimas have data from Nov 15 00:00 WIB to the end of 2026, every minute
// up. The 2026-Q4 report's coverage history starts in November and its
// contract months carry their completeness.
func TestCoverageFromDeployment(t *testing.T) {
	ctx := context.Background()
	inv, err := inventory.Parse("inventory.yml", []byte(buildInventory))
	if err != nil {
		t.Fatal(err)
	}
	st := spanStore{MemStore: sla.NewMemStore(), spans: []sla.Span{
		{ID: 1, Scope: sla.SpanSite, Target: "dinkes", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, wib), End: time.Date(2026, 11, 15, 0, 0, 0, 0, wib), Reason: "impor Zabbix"},
		{ID: 2, Scope: sla.SpanSite, Target: "elsewhere", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, wib), End: time.Date(2026, 11, 15, 0, 0, 0, 0, wib)},
	}}
	b := sla.NewBuilder(inv, nil)
	var marks []sla.Mark
	for tm := time.Date(2026, 11, 15, 0, 0, 0, 0, wib); tm.Before(time.Date(2027, 1, 1, 0, 0, 0, 0, wib)); tm = tm.Add(time.Minute) {
		marks = b.ICMP(marks, "a", "", "127.0.0.2", tm.UnixNano(), true, 0, 0.01, true)
		marks = b.ICMP(marks, "a", "", "127.0.0.4", tm.UnixNano(), true, 0, 0.65, true)
	}
	if err := st.Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, Input{Inv: inv, Store: st, Index: st}, Options{Period: "2026-Q4", Lang: "id", Zone: wib, Now: time.Date(2027, 1, 5, 0, 0, 0, 0, wib)})
	if err != nil {
		t.Fatal(err)
	}
	// history: the default 6 months end with December (Jul–Dec); Jul–Oct
	// have no data in any link, so it starts with November. Each month:
	// OPD dinkes of 3 OPDs (disdik has no data, bappeda no link), the one
	// district of 1.
	want := []CoverageMonth{{"2026-11", 3, 1, 1, 1}, {"2026-12", 3, 1, 1, 1}}
	if h := r.Coverage.History; len(h) != len(want) || h[0] != want[0] || h[1] != want[1] {
		t.Errorf("history %+v, want %+v", h, want)
	}
	// contract months of dinkes-wan in WIB:
	// Oct: 0 of 44,640 minutes known → 0 %, incomplete;
	// Nov: Nov 15–30 = 16 days × 1,440 = 23,040 of 30 × 1,440 = 43,200
	//      minutes = 1,382,400 s → 53.333 %, incomplete;
	// Dec: 31 × 1,440 = 44,640 of 44,640 → 100 %, complete.
	type cw struct {
		month      string
		known      int64
		pct        float64
		incomplete bool
		status     string
	}
	wantC := []cw{
		{"2026-10", 0, 0, true, "data tidak lengkap (< 90 %)"},
		{"2026-11", 1382400, 100 * 23040.0 / 43200, true, "data tidak lengkap (< 90 %)"},
		{"2026-12", 2678400, 100, false, "lengkap"},
	}
	if len(r.Contracts) != len(wantC) {
		t.Fatalf("%d contract rows, want %d", len(r.Contracts), len(wantC))
	}
	var table Table
	for _, tb := range r.Tables() {
		if tb.Name == "contracts" {
			table = tb
		}
	}
	statusCol := slices.Index(table.Columns, "status data")
	if statusCol < 1 || table.Columns[statusCol-1] != "kelengkapan data %" {
		t.Errorf("contract columns %q", table.Columns)
	}
	for i, w := range wantC {
		c := r.Contracts[i]
		g := cw{c.Month, c.KnownSeconds, c.Completeness, c.IncompleteData, ""}
		if row := table.Rows[i]; statusCol >= 0 && len(row) > statusCol {
			g.status, _ = row[statusCol].(string)
		}
		if g != w {
			t.Errorf("contract month %d: got %+v, want %+v", i, g, w)
		}
		if c.IncompleteData && (c.Restitution != 0 || c.RestitutionWithheld != sla.WithheldIncomplete) {
			t.Errorf("%s: restitution %d withheld %q", c.Month, c.Restitution, c.RestitutionWithheld)
		}
	}
	// the span of dinkes is listed; the span of a site outside the
	// inventory is not
	if s := r.Coverage.MonitoredSpans; len(s) != 1 || s[0].ID != 1 {
		t.Errorf("monitored spans %+v", s)
	}
	var methods string
	for _, m := range r.Methods {
		methods += m.Figure + ": " + m.Method + "\n"
	}
	for _, w := range []string{"gap: Menit tanpa data adalah celah pemantauan", "contract_completeness: ", "di bawah 90 %", "monitored_spans: ", "lokasi dinkes 2026-11-01 00:00 WIB – 2026-11-15 00:00 WIB (impor Zabbix)"} {
		if !strings.Contains(methods, w) {
			t.Errorf("methods lack %q:\n%s", w, methods)
		}
	}
}
