package webui

import (
	"testing"
	"time"
)

func TestReviuMarkOverdue(t *testing.T) {
	items := []reviuItem{
		{ID: 1, Due: "2026-12-06", Status: "belum"},   // yesterday: 1 day
		{ID: 2, Due: "2026-12-07", Status: "proses"},  // today: not yet
		{ID: 3, Due: "2026-11-07", Status: "selesai"}, // done: never
		{ID: 4, Due: "", Status: "belum"},             // no due date
		{ID: 5, Due: "2026-11-07", Status: "proses"},  // 30 days
	}
	reviuMarkOverdue(items, "2026-12-07")
	want := map[int64]int{1: 1, 2: 0, 3: 0, 4: 0, 5: 30}
	for _, f := range items {
		if f.DaysOverdue != want[f.ID] || f.Overdue() != (want[f.ID] > 0) {
			t.Errorf("item %d (due %q, %s): %d days overdue, want %d", f.ID, f.Due, f.Status, f.DaysOverdue, want[f.ID])
		}
	}
}

func TestReviuEvidence(t *testing.T) {
	sha := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for _, c := range []struct{ ev, file, link string }{
		{"sha256:" + sha, sha, ""},
		{"https://tiket.example.go.id/4711", "", "https://tiket.example.go.id/4711"},
		{"javascript:alert(1)", "", ""},
		{"tiket ISP 4711", "", ""},
		{"sha256:abc", "", ""},
	} {
		f := reviuItem{Evidence: c.ev}
		if f.EvidenceFile() != c.file || f.EvidenceLink() != c.link {
			t.Errorf("%q: file %q, link %q; want %q, %q", c.ev, f.EvidenceFile(), f.EvidenceLink(), c.file, c.link)
		}
	}
}

// TestReviuQuarters: the form offers the current quarter and the seven
// before it, and selects the quarter ending this month, else the last one
// ended.
func TestReviuQuarters(t *testing.T) {
	for _, c := range []struct {
		now         time.Time
		first, last string
		def         string
	}{
		{time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), "2026-Q4", "2025-Q1", "2026-Q4"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-Q4", "2025-Q1", "2026-Q3"},
		{time.Date(2027, 1, 8, 0, 0, 0, 0, time.UTC), "2027-Q1", "2025-Q2", "2026-Q4"},
	} {
		qs, def := reviuQuarters(c.now)
		if len(qs) != reviuQuarterCount || qs[0] != c.first || qs[len(qs)-1] != c.last || def != c.def {
			t.Errorf("%s: %v, selected %s; want %s..%s, selected %s", c.now.Format("2006-01-02"), qs, def, c.first, c.last, c.def)
		}
	}
}
