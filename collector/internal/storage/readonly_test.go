package storage

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

// TestReadOnlyBoundsAndCloses: a read-only TSDB with a persisted block
// serves several queriers, each bounded to its range, and closes (issue
// 16: closing the database before its querier blocked for ever).
func TestReadOnlyBoundsAndCloses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tsdb")
	db, err := tsdb.Open(dir, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := db.Appender(context.Background())
	ls := labels.FromStrings("__name__", "pantau_icmp_up", "link", "a")
	const hour = int64(3600_000)
	for ts := int64(0); ts < 5*hour; ts += 30_000 {
		if _, err := app.Append(0, ls, ts, float64(ts)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) == 0 {
		t.Fatal("no block was written; the test needs one")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "pantau_icmp_up")}
	for _, r := range []struct{ mint, maxt int64 }{{hour, 2*hour - 1}, {0, 30_000}, {10 * hour, 11 * hour}} {
		q, err := ro.Querier(r.mint, r.maxt)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = ReadSeries(context.Background(), q, ms, func(ts int64, _ float64) {
			n++
			if ts < r.mint || ts > r.maxt {
				t.Errorf("[%d, %d]: sample at %d", r.mint, r.maxt, ts)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := int((min(r.maxt, 5*hour-1)-r.mint)/30_000 + 1); r.mint >= 5*hour && n != 0 || r.mint < 5*hour && n != want {
			t.Errorf("[%d, %d]: %d samples, want %d", r.mint, r.maxt, n, want)
		}
		q.Close()
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "none"), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a missing TSDB directory opened")
	}
}
