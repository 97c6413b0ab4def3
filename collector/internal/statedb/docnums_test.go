package statedb

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestDocumentNumber: one number per (product, scope, period, version),
// the same on every later call; a sequence per year of issue; concurrent
// issuers never share a number.
func TestDocumentNumber(t *testing.T) {
	db, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	format := func(seq int) string { return fmt.Sprintf("%d/LAP", seq) }
	nov := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	issue := func(k DocKey, at time.Time) DocNumber {
		t.Helper()
		n, err := db.DocumentNumber(t.Context(), k, at, format)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	oct := DocKey{"monthly", "pemda", "2026-10", 1}
	if n := issue(oct, nov); n.Seq != 1 || n.Number != "1/LAP" || n.Year != 2026 {
		t.Fatalf("first number %+v, want 1/LAP in 2026", n)
	}
	// Re-rendering a month later gives the same number, issued in November.
	if n := issue(oct, nov.AddDate(0, 1, 0)); n.Number != "1/LAP" || !n.Issued.Equal(nov) {
		t.Errorf("re-issued %+v, want 1/LAP issued %s", n, nov)
	}
	// Another version, scope or product: the next numbers.
	if n := issue(DocKey{"monthly", "pemda", "2026-10", 2}, nov); n.Number != "2/LAP" {
		t.Errorf("version 2: %s, want 2/LAP", n.Number)
	}
	if n := issue(DocKey{"monthly", "opd:DISKOMINFO", "2026-10", 1}, nov); n.Number != "3/LAP" {
		t.Errorf("OPD: %s, want 3/LAP", n.Number)
	}
	// A new year starts at 1.
	if n := issue(DocKey{"monthly", "pemda", "2026-12", 1}, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)); n.Number != "1/LAP" || n.Year != 2027 {
		t.Errorf("2027: %+v, want 1/LAP", n)
	}
	// 8 issuers at once for 8 documents: numbers 4..11 of 2026, each once.
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			n, err := db.DocumentNumber(t.Context(), DocKey{"opd-sheet", fmt.Sprintf("site:S%d", i), "2026-10", 1}, nov, format)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[n.Number] {
				t.Errorf("number %s issued twice", n.Number)
			}
			seen[n.Number] = true
		})
	}
	wg.Wait()
	for seq := 4; seq <= 11; seq++ {
		if !seen[fmt.Sprintf("%d/LAP", seq)] {
			t.Errorf("number %d/LAP not issued; got %v", seq, seen)
		}
	}
}
