package collector

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/tsdb"
)

// reportHandler is the report API over a fresh state.db, an empty TSDB
// and the SLA test inventory, behind the panic recovery the daemon uses;
// logs go to logs.
func reportHandler(t testing.TB, logs *bytes.Buffer) http.Handler {
	t.Helper()
	r, _ := testSLARuntime(t, slaTestInventory)
	r.log = slog.New(slog.NewTextHandler(logs, nil))
	tdb, err := tsdb.Open(filepath.Join(t.TempDir(), "tsdb"), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tdb.Close() })
	mux := http.NewServeMux()
	r.register(mux, tdb)
	return recoverPanics(mux, r.log)
}

// TestReportAPIRefusesBadParameters: every mistake is a 400 that names
// it, absurd periods included (issue 16: 1026-10-01..2026-10-31 killed
// the collector), and nothing is logged as an internal error.
func TestReportAPIRefusesBadParameters(t *testing.T) {
	var logs bytes.Buffer
	h := reportHandler(t, &logs)
	for query, want := range map[string]string{
		"period=1026-10-01..2026-10-31":                       "dates must be in years 2000 to 2199",
		"period=0001-01-01..9999-12-31":                       "dates must be in years 2000 to 2199",
		"period=1700-01-01..2026-12-31":                       "dates must be in years 2000 to 2199",
		"period=2025-01-01..2026-12-31":                       "730 days; a period covers at most 400",
		"":                                                    "period is required",
		"period=2026-10&format=docx":                          `format "docx": want one of json, csv, xlsx, html, pdf`,
		"period=2026-10&version=0":                            "version \"0\": want a whole number from 1 to 999",
		"period=2026-10&format=json&table=links":              "table=links is for format=csv",
		"period=2026-10&format=csv&table=nope":                `table "nope": want one of summary`,
		"period=2026&product=annual&format=csv":               "product annual as CSV is one table at a time: give table= one of trends",
		"period=2026&product=annual&format=csv&table=links":   `table "links" of product annual: want one of trends, link_months`,
		"period=2026-10&zone=Mars/Olympus":                    `unknown time zone "Mars/Olympus"`,
		"period=2026-10&period=2026-11":                       "parameter period is given 2 times",
		"period=2026-10&lang=jv":                              `unknown language "jv"`,
		"period=2026-10&site=nope":                            `unknown site "nope"`,
		"period=2026-10&opd=nope":                             `no site of OPD "nope"`,
		"period=2026-10&opd=dinkes&site=dinkes":               "give opd or site, not both",
		"period=" + url.QueryEscape(strings.Repeat("9", 100)): "too long",
		"period=2026-10&format=csv&csv_locale=fr":             `csv_locale "fr": want one of id, default`,
		"period=2026-10&format=json&csv_locale=id":            "csv_locale is for format=csv",
		"period=2026-10&format=csv&csv_locale=id&csv_locale=": "parameter csv_locale is given 2 times",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/report?"+query, nil))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%q: %d %q; want 400 saying %q", query, rec.Code, rec.Body.String(), want)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a caller's mistake was logged as an error:\n%s", logs.String())
	}
	for _, query := range []string{"period=2026-10", "period=2026-Q4&format=csv&table=incidents", "period=2026&lang=en&format=html", "period=2026-10-01..2026-10-02&site=dinkes&format=xlsx"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/report?"+query, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%q: %d %s", query, rec.Code, rec.Body.String())
		}
	}
}

// FuzzReportAPI drives the report handler with arbitrary parameters: it
// answers 200 or a 4xx, never a 500, never panics, and a 200 carries a
// report. `make fuzz` runs it; FUZZTIME=10m for the ten minutes.
func FuzzReportAPI(f *testing.F) {
	for _, s := range []string{
		"period=2026-10", "period=2026-Q4&format=csv&table=links", "period=2026&format=html&lang=en",
		"period=1026-10-01..2026-10-31", "period=0001-01-01..9999-12-31", "period=2026-10-01..2026-10-15&site=dinkes",
		"period=2026-10&opd=dinkes&format=xlsx", "period=2026-10&zone=WIT", "period=%ff&zone=..%2f..%2fetc",
		"period=2199-12-01..2199-12-31", "period=2000-01-01..2001-02-04", "format=csv&table=methods&period=2026-02",
		"period=2026-10&format=csv&csv_locale=id", "period=2026-10&format=csv&csv_locale=ID%20", "period=2026-10&csv_locale=x",
		"period=2026-10&product=opd-sheet&opd=dinkes&format=html", "period=2026-Q4&product=review-pack&format=xlsx",
		"period=2026&product=annual&lang=en", "period=2026-10&product=annual", "product=opd-sheet&period=2026-10&site=dinkes",
		"product=nope&period=2026", "product=review-pack&format=csv&period=2026-q1",
		"period=2026&product=annual&format=csv&table=capacity_plan", "period=2026&format=" + strings.Repeat("%C3%A9", 30),
		"period=2026&product=" + strings.Repeat("%C3%A9", 30), "period=2026&opd=" + strings.Repeat("%C3%A9", 30),
		"period=2026&product=annual&format=csv&table=" + strings.Repeat("%C3%A9", 30), "period=2026&format=json&table=x" + strings.Repeat("%C3%A9", 30), "period=2026-Q4&product=review-pack&format=csv&table=open_items&csv_locale=id",
		"period=2026-10&product=opd-sheet&opd=dinkes&format=csv&table=sheet_daily", "period=2026&product=annual&format=csv",
	} {
		f.Add(s)
	}
	var logs bytes.Buffer
	h := reportHandler(f, &logs)
	f.Fuzz(func(t *testing.T, query string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/report", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			if rec.Body.Len() == 0 {
				t.Fatalf("%q: 200 without a report", query)
			}
		case rec.Code >= 400 && rec.Code < 500:
			if !utf8.Valid(rec.Body.Bytes()) {
				t.Fatalf("%q: %d with a message that is not UTF-8: %q", query, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("%q: %d %s\n%.3000s", query, rec.Code, rec.Body.String(), logs.String())
		}
	})
}

// TestReportAPICSVLocale: csv_locale=id answers `;` and decimal commas
// after a byte order mark; without it the CSV is as before.
func TestReportAPICSVLocale(t *testing.T) {
	var logs bytes.Buffer
	h := reportHandler(t, &logs)
	get := func(q string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/report?"+q, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%q: %d %s", q, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	id := get("period=2026-10&format=csv&table=summary&csv_locale=id")
	if !strings.HasPrefix(id, "\ufeffbutir;nilai\r\n") {
		t.Errorf("csv_locale=id starts %q, want a byte order mark and butir;nilai", id[:min(len(id), 40)])
	}
	def := get("period=2026-10&format=csv&table=summary")
	if !strings.HasPrefix(def, "butir,nilai\n") {
		t.Errorf("default CSV starts %q, want butir,nilai", def[:min(len(def), 40)])
	}
}

// TestReportAPIProducts: each product comes with its Content-Type and
// file name; an unknown product, a period or scope a product is not made
// for, and a format it does not come in are 400s naming the problem.
func TestReportAPIProducts(t *testing.T) {
	var logs bytes.Buffer
	h := reportHandler(t, &logs)
	get := func(query string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/report?"+query, nil))
		return rec
	}
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	for _, c := range []struct{ query, ctype, disposition string }{
		{"period=2026-10&product=opd-sheet&opd=dinkes&format=html", "text/html; charset=utf-8", `inline; filename="pantau-opd-sheet-dinkes-2026-10.html"`},
		{"period=2026-10&product=opd-sheet&opd=dinkes&format=xlsx", xlsx, `attachment; filename="pantau-opd-sheet-dinkes-2026-10.xlsx"`},
		{"period=2026-Q4&product=review-pack&format=html", "text/html; charset=utf-8", `inline; filename="pantau-review-pack-2026-Q4.html"`},
		{"period=2026-Q4&product=review-pack&format=xlsx", xlsx, `attachment; filename="pantau-review-pack-2026-Q4.xlsx"`},
		{"period=2026&product=annual&format=html&lang=en", "text/html; charset=utf-8", `inline; filename="pantau-annual-2026.html"`},
		{"period=2026&product=annual&format=xlsx", xlsx, `attachment; filename="pantau-annual-2026.xlsx"`},
		{"period=2026&product=annual&format=json", "application/json", `inline; filename="pantau-annual-2026.json"`},
		{"period=2026-10&product=monthly&format=xlsx", xlsx, `attachment; filename="pantau-2026-10.xlsx"`},
		{"period=2026-10&format=html", "text/html; charset=utf-8", ""},
	} {
		rec := get(c.query)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", c.query, rec.Code, rec.Body.String())
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.query, got, c.ctype)
		}
		if got := rec.Header().Get("Content-Disposition"); got != c.disposition {
			t.Errorf("%s: Content-Disposition %q, want %q", c.query, got, c.disposition)
		}
	}
	for query, want := range map[string]string{
		"period=2026-10&product=nope":                     `product "nope": want one of monthly, opd-sheet, review-pack, annual`,
		"period=2026-10&product=review-pack":              "product review-pack covers a quarter, such as 2026-Q4",
		"period=2026-Q4&product=annual":                   "product annual covers a year, such as 2026",
		"period=2026&product=opd-sheet&opd=dinkes":        "product opd-sheet covers a month",
		"period=2026-10&product=opd-sheet":                "product opd-sheet covers one OPD or one district site",
		"period=2026-10&product=opd-sheet&site=dinkes":    "site dinkes is of kind opd: ask for opd=dinkes",
		"period=2026-Q4&product=review-pack&format=csv":   "product review-pack as CSV is one table at a time: give table= one of trends",
		"period=2026-10&product=opd-sheet&product=annual": "parameter product is given 2 times",
	} {
		if rec := get(query); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%q: %d %q; want 400 saying %q", query, rec.Code, rec.Body.String(), want)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a caller's mistake was logged as an error:\n%s", logs.String())
	}
}
