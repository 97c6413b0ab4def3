package bundle

import (
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestMinutesPeriod: a review's minutes name the month or the quarter it
// covers as a reader says it, in each language.
func TestMinutesPeriod(t *testing.T) {
	for _, c := range []struct {
		lang, kind, month, want string
	}{
		{"id", statedb.KindMonthly, "2026-10", "<th>Periode yang direviu</th><td>Oktober 2026</td>"},
		{"en", statedb.KindMonthly, "2026-10", "<th>Period reviewed</th><td>October 2026</td>"},
		{"id", statedb.KindQuarterly, "2026-12", "<th>Periode yang direviu</th><td>Triwulan IV 2026</td>"},
		{"en", statedb.KindQuarterly, "2026-12", "<th>Period reviewed</th><td>Q4 2026</td>"},
	} {
		rv := statedb.Review{ID: 7, Kind: c.kind, Month: c.month, HeldOn: "2027-01-08", Participants: "Sekda", Findings: "FO"}
		if got := string(minutesHTML(c.lang, rv, nil)); !strings.Contains(got, c.want) {
			t.Errorf("%s %s %s: minutes lack %q:\n%s", c.lang, c.kind, c.month, c.want, got)
		}
	}
}
