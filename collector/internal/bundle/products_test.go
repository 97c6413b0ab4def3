package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
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

// TestBundleOPDSheetNamesDistinct: OPD ids that reduce to the same file
// name (a site's opd: is free text in the inventory: "a b" and "a-b";
// valid ids too: "a" and "a-", "x--y" and "x-y"; long ids cut at the
// same length) each get their own OPD sheet under their own name, never
// one OPD's sheet under another's, nor a name twice in the ZIP.
func TestBundleOPDSheetNamesDistinct(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("dinas-", 20)
	opds := []string{"a b", "a-b", "a", "a-", "x--y", "x-y", "a..b", "a.b", long + "kesehatan", long + "perhubungan", "!!!", "???"}
	b, _ := build(t, f.input(&fakeProducts{opds: opds}), Params{Period: "2026-10", Indicator: 17}, Scope{}, Limits{})
	files, _, man := unzip(t, b) // fails on a name twice
	got := map[string]string{}   // OPD and format: its sheet's path
	for _, fi := range man.Files {
		if !strings.Contains(fi.Path, "/opd-sheet-") {
			continue
		}
		if !safePath(fi.Path) {
			t.Errorf("%s: not a safe path", fi.Path)
		}
		body := string(files[fi.Path])
		for _, o := range opds {
			if strings.Contains(body, fmt.Sprintf(" opd=%q ", o)) {
				k := o + " " + filepath.Ext(fi.Path)
				if prev, dup := got[k]; dup {
					t.Errorf("the sheet of OPD %q is both %s and %s", o, prev, fi.Path)
				}
				got[k] = fi.Path
			}
		}
	}
	for _, o := range opds {
		if got[o+" .xlsx"] == "" {
			t.Errorf("no OPD sheet of %q in the bundle", o)
		}
	}
}

// TestPlanCountsEvidenceFirst: a bundle over report.bundle_max_bytes by
// its evidence files alone, or over bundle_max_entries with its review
// records, is refused before any product is rendered (a PDF holds a
// render slot for seconds).
func TestPlanCountsEvidenceFirst(t *testing.T) {
	f := newFixture(t)
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	ev := int64(len(f.dinkesPDF) + len(f.dishubText) + len(f.photo))
	for _, c := range []struct {
		lim    Limits
		reason string
	}{
		{Limits{MaxBytes: ev - 1}, "too_large"},
		// indicator 28: monthly pdf, html, xlsx + review-pack pdf, xlsx
		// + 2 minutes, tindak-lanjut.csv, 3 files + index and manifest
		// = 13 known before rendering (and metode.html)
		{Limits{MaxEntries: 12}, "too_many_entries"},
	} {
		fp := &fakeProducts{}
		_, err = Plan(t.Context(), f.input(fp), m, Params{Period: "2026", Indicator: 28}, Scope{}, c.lim)
		if le, ok := err.(*LimitError); !ok || le.Reason != c.reason {
			t.Fatalf("%+v: err = %v, want %s", c.lim, err, c.reason)
		}
		if fp.calls != 0 {
			t.Errorf("%+v: %d renders before the refusal, want 0", c.lim, fp.calls)
		}
	}
}

// longDocs names every document with a long period.
type longDocs struct{ fakeProducts }

func (l *longDocs) Documents(ctx context.Context, product string, s Scope, period string) ([]Doc, error) {
	return []Doc{{Product: product, Period: strings.Repeat("2026-10-01..", 10)}}, nil
}

// TestBundleLongDocumentName: a document name at safeName's 80 bytes
// still makes a safe entry with its extension, and Plan, not Write (after
// the 200), would refuse an unsafe one.
func TestBundleLongDocumentName(t *testing.T) {
	f := newFixture(t)
	_, _, man := unzip(t, mustBuild(t, f.input(&longDocs{}), Params{Period: "2026-10", Indicator: 17}))
	for _, fi := range man.Files {
		if fi.Kind == "product" && (!safePath(fi.Path) || filepath.Ext(fi.Path) == "") {
			t.Errorf("%s: not a safe path with its extension", fi.Path)
		}
	}
}

func mustBuild(t *testing.T, in Input, p Params) []byte {
	t.Helper()
	b, _ := build(t, in, p, Scope{}, Limits{})
	return b
}

// TestBundleIndexPDFBeforeWrite: index.pdf is printed in Plan, before
// the first byte of the response: a failed print is Plan's error, not a
// ZIP cut after the evidence files were streamed; and what is printed is
// the index.html the bundle holds.
func TestBundleIndexPDFBeforeWrite(t *testing.T) {
	f := newFixture(t)
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	in := f.input(&fakeProducts{})
	in.PDF = func(ctx context.Context, html []byte) ([]byte, error) { return nil, errors.New("chromium crashed") }
	if _, err := Plan(t.Context(), in, m, Params{Period: "2026", Indicator: 28}, Scope{}, Limits{}); err == nil || !strings.Contains(err.Error(), "chromium crashed") {
		t.Fatalf("Plan with a failing index print: %v, want its error", err)
	}
	in.PDF = func(ctx context.Context, html []byte) ([]byte, error) {
		sum := sha256.Sum256(html)
		return []byte("%PDF of " + hex.EncodeToString(sum[:])), nil
	}
	b, _ := build(t, in, Params{Period: "2026", Indicator: 28}, Scope{}, Limits{})
	files, _, _ := unzip(t, b)
	sum := sha256.Sum256(files["index.html"])
	if got, want := string(files["index.pdf"]), "%PDF of "+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("index.pdf %q, want the print of the bundle's index.html %q", got, want)
	}
}
