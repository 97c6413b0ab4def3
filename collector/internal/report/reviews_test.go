package report

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestReviewPeriods: the review table names a monthly review's month and
// a quarterly review's quarter, in CSV as the period label and in HTML as
// a reader says it, in each language.
func TestReviewPeriods(t *testing.T) {
	for _, c := range []struct {
		lang, month, quarter, header string
	}{
		{LangID, "Oktober 2026", "Triwulan IV 2026", "periode"},
		{LangEN, "October 2026", "Q4 2026", "period"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			r := fixtureReport(c.lang)
			r.Reviews = []statedb.Review{
				{ID: 1, Kind: statedb.KindMonthly, Month: "2026-10", HeldOn: "2026-10-28", Participants: "NOC", Findings: "VSAT"},
				{ID: 2, Kind: statedb.KindQuarterly, Month: "2026-12", HeldOn: "2027-01-08", Participants: "Sekda", Findings: "FO"},
			}
			tb, err := r.Table("reviews")
			if err != nil {
				t.Fatal(err)
			}
			var csv bytes.Buffer
			if err := WriteCSV(&csv, tb); err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{c.header + ",", "2026-10,2026-10-28,NOC,VSAT", "2026-Q4,2027-01-08,Sekda,FO"} {
				if !strings.Contains(csv.String(), w) {
					t.Errorf("CSV lacks %q:\n%s", w, csv.String())
				}
			}
			if got := fmtCell(c.lang, tb.Rows[0][0]); got != c.month {
				t.Errorf("monthly review's period in HTML: %q, want %q", got, c.month)
			}
			if got := fmtCell(c.lang, tb.Rows[1][0]); got != c.quarter {
				t.Errorf("quarterly review's period in HTML: %q, want %q", got, c.quarter)
			}
			var page bytes.Buffer
			if err := WriteHTML(&page, r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page.String(), c.quarter) {
				t.Errorf("the HTML report does not name the quarterly review's period %q", c.quarter)
			}
		})
	}
}

// TestQuarterlyReviewInReports: a quarterly review appears in the reports
// whose period includes its quarter's last month (that month's, the
// quarter's), not in those of the quarter's other months.
func TestQuarterlyReviewInReports(t *testing.T) {
	_, db := buildFixture(t)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
	if _, err := db.AddReview(context.Background(), statedb.Review{Kind: statedb.KindQuarterly, Month: "2026-Q3", HeldOn: "2026-10-06",
		Participants: "Sekda", Findings: "triwulan III"}, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		period string
		in     bool
	}{{"2026-09", true}, {"2026-Q3", true}, {"2026", true}, {"2026-08", false}, {"2026-10", false}} {
		r := buildWith(t, db, Options{Period: c.period})
		found := slices.ContainsFunc(r.Reviews, func(v statedb.Review) bool { return v.Kind == statedb.KindQuarterly && v.Period == "2026-Q3" })
		if found != c.in {
			t.Errorf("report %s: quarterly review of 2026-Q3 present %v, want %v", c.period, found, c.in)
		}
	}
}
