package bundle

import (
	"slices"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// TestProductPeriods: the periods of each product's documents in a
// bundle, by hand, for a WIT Pemda on 2026-11-15 09:00 WIT: the annual
// report is the period's year; the review pack each quarter begun
// (a year: Q1..Q4, as Q4 began 2026-10-01; a month: its quarter); the
// OPD sheet the last month begun (a year: 2026-11; a later year:
// its first month, none having begun); monthly the period itself.
func TestProductPeriods(t *testing.T) {
	wit := time.FixedZone("WIT", 9*3600)
	now := time.Date(2026, 11, 15, 9, 0, 0, 0, wit)
	for _, c := range []struct {
		product, period string
		want            []string
	}{
		{"monthly", "2026", []string{"2026"}},
		{"monthly", "2026-10", []string{"2026-10"}},
		{"annual", "2026-Q4", []string{"2026"}},
		{"annual", "2026-02", []string{"2026"}},
		{"review-pack", "2026", []string{"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"}},
		{"review-pack", "2026-Q3", []string{"2026-Q3"}},
		{"review-pack", "2026-05", []string{"2026-Q2"}},
		{"review-pack", "2026-10-20..2027-02-01", []string{"2026-Q4"}}, // 2027-Q1 has not begun
		{"review-pack", "2027", []string{"2027-Q1"}},                   // none begun: the first
		{"opd-sheet", "2026", []string{"2026-11"}},
		{"opd-sheet", "2026-Q3", []string{"2026-09"}},
		{"opd-sheet", "2026-10", []string{"2026-10"}},
		{"opd-sheet", "2027", []string{"2027-01"}},
	} {
		per, err := sla.ParsePeriod(c.period, wit)
		if err != nil {
			t.Fatal(err)
		}
		if got := ProductPeriods(c.product, c.period, per, now); !slices.Equal(got, c.want) {
			t.Errorf("%s of %s: %v, want %v", c.product, c.period, got, c.want)
		}
	}
}

// TestPlanCountsDocumentsFirst: with report.bundle_max_entries below the
// documents' count, Plan refuses before rendering anything.
func TestPlanCountsDocumentsFirst(t *testing.T) {
	f := newFixture(t)
	fp := &fakeProducts{}
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(t.Context(), f.input(fp), m, Params{Period: "2026"}, Scope{}, Limits{MaxEntries: 3})
	if le, ok := err.(*LimitError); !ok || le.Reason != "too_many_entries" {
		t.Fatalf("err = %v, want too_many_entries", err)
	}
	if fp.calls != 0 {
		t.Errorf("%d renders before the refusal, want 0", fp.calls)
	}
}
