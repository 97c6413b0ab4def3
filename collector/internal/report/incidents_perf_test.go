package report

import (
	"fmt"
	"testing"
	"time"
)

// TestMarkPartOfSiteBySite: a link outage is part of its own site's
// outage when the two overlap ([start, end) intervals), whatever the
// order of the incidents; another site's outage at the same time does not
// count, nor does one that only touches it.
func TestMarkPartOfSiteBySite(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 10, 5, h, m, 0, 0, time.UTC) }
	inc := func(kind, site string, h0, m0, h1, m1 int) Incident {
		return Incident{Kind: kind, Site: site, Start: at(h0, m0), End: at(h1, m1)}
	}
	incs := []Incident{
		inc(KindSite, "a", 12, 0, 12, 10),  // a's second outage, listed first
		inc(KindLink, "a", 9, 50, 10, 5),   // 0: overlaps 10:00-10:30 by 5 min
		inc(KindLink, "a", 10, 30, 10, 40), // 1: starts as 10:00-10:30 ends: no overlap
		inc(KindSite, "a", 10, 0, 10, 30),
		inc(KindLink, "a", 11, 0, 11, 30),  // 2: between a's outages
		inc(KindLink, "a", 12, 5, 12, 6),   // 3: inside 12:00-12:10
		inc(KindLink, "b", 10, 10, 10, 20), // 4: a's outage, not b's
		inc(KindLink, "a", 9, 0, 10, 0),    // 5: ends as 10:00 starts: no overlap
		inc(KindLink, "a", 11, 55, 13, 0),  // 6: covers 12:00-12:10
	}
	markPartOfSite(incs)
	var got []bool
	for _, in := range incs {
		if in.Kind == KindLink {
			got = append(got, in.PartOfSite)
		}
	}
	want := []bool{true, false, false, true, false, false, true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("part of site %v, want %v", got, want)
	}
}
