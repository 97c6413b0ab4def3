package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestReviewMonth(t *testing.T) {
	for _, tc := range []struct {
		kind, period, month, label string
		err                        bool
	}{
		{"", "2026-10", "2026-10", "2026-10", false},
		{"monthly", "2026-11", "2026-11", "2026-11", false},
		{"monthly", "2026-Q4", "", "", true},
		{"quarterly", "2026-Q4", "2026-12", "2026-Q4", false},
		{"quarterly", "2026-Q1", "2026-03", "2026-Q1", false},
		{"quarterly", "2026-12", "2026-12", "2026-Q4", false},
		{"quarterly", "2026-06", "2026-06", "2026-Q2", false},
		{"quarterly", "2026-11", "", "", true},
		{"quarterly", "2026-Q5", "", "", true},
		{"quarterly", "26-Q4", "", "", true},
		{"yearly", "2026-12", "", "", true},
	} {
		t.Run(tc.kind+" "+tc.period, func(t *testing.T) {
			m, err := ReviewMonth(tc.kind, tc.period)
			if (err != nil) != tc.err || m != tc.month {
				t.Fatalf("ReviewMonth(%q, %q) = %q, %v", tc.kind, tc.period, m, err)
			}
			if err == nil && ReviewPeriod(tc.kind, m) != tc.label {
				t.Fatalf("ReviewPeriod(%q, %q) = %q, want %q", tc.kind, m, ReviewPeriod(tc.kind, m), tc.label)
			}
		})
	}
	if _, err := ReviewMonth(KindQuarterly, "2026-11"); !errors.Is(err, ErrQuarterMonth) {
		t.Fatalf("a quarterly review of 2026-11: %v, want ErrQuarterMonth", err)
	}
}

func TestQuarterlyReviewInMonthRange(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, r := range []Review{
		{Month: "2026-11", HeldOn: "2026-12-03", Participants: "p", Findings: "f"},
		{Kind: KindQuarterly, Month: "2026-Q4", HeldOn: "2027-01-08", Participants: "p", Findings: "f"},
	} {
		if _, err := db.AddReview(ctx, r, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AddReview(ctx, Review{Kind: KindQuarterly, Month: "2026-11", HeldOn: "2026-12-03", Participants: "p", Findings: "f"}, now); !errors.Is(err, ErrQuarterMonth) {
		t.Fatalf("quarterly review of 2026-11 stored: %v", err)
	}
	got, err := db.Reviews(ctx, "2026-10", "2026-12")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"monthly 2026-11 2026-11", "quarterly 2026-12 2026-Q4"}
	if len(got) != len(want) {
		t.Fatalf("got %d reviews, want %d: %+v", len(got), len(want), got)
	}
	for i, r := range got {
		if s := r.Kind + " " + r.Month + " " + r.Period; s != want[i] {
			t.Errorf("review %d: %s, want %s", i, s, want[i])
		}
	}
	if got, _ := db.Reviews(ctx, "2026-10", "2026-11"); len(got) != 1 {
		t.Errorf("October–November holds %d reviews, want the monthly one only", len(got))
	}
}

// TestReviewKindMigration opens a state file of the schema before review
// kinds: its reviews are monthly.
func TestReviewKindMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	const before = 12 // the schema version without reviews.kind
	for v := range before {
		if _, err := old.ExecContext(ctx, migrations[v]); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
	}
	if _, err := old.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", before)); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO reviews (month, held_on, scope, participants, findings, created_at)
		VALUES ('2026-12', '2027-01-05', '', 'Kadis, Kabid', 'ok', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db := open(t, dir)
	got, err := db.Reviews(ctx, "2026-12", "2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != KindMonthly || got[0].Period != "2026-12" || got[0].Participants != "Kadis, Kabid" {
		t.Fatalf("after migration: %+v, want the old review as monthly 2026-12", got)
	}
}
