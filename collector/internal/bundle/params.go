// Package bundle writes the SPBE evidence bundle: a ZIP with one folder
// per SPBE indicator holding the products that serve it (spbe.yml,
// bundle), the review minutes and follow-up evidence files, the asset
// register and the methods, an index (HTML, and PDF when a renderer is
// available) and manifest.json with each file's SHA-256, size and
// document number (docs/spbe-report.md, Evidence bundle).
package bundle

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Params are a bundle request's parameters.
type Params struct {
	Period    string // as the report takes it: 2026-10, 2026-Q4, 2026, 2026-10-01..2026-10-15
	Indicator int    // 0: every indicator of spbe.yml, one folder each
	OPD       string // only this OPD ("" : the caller's scope)
	Lang      string // id (default) or en: the index's language and the products'
}

// ParamNames are the parameters GET /api/v1/evidence takes.
var ParamNames = []string{"period", "indicator", "opd", "lang"}

// ErrParam is wrapped by every ParseParams error (the caller's mistake:
// a 400).
var ErrParam = errors.New("invalid evidence bundle request")

// ParseParams reads and checks a bundle request: every parameter known
// and given at most once, period a report period, indicator one that
// spbe.yml maps (its number), opd an OPD id's characters, lang id or en.
// Whether the OPD exists is decided when the products are built.
func ParseParams(v url.Values, m []report.BundleIndicator) (Params, error) {
	bad := func(format string, a ...any) (Params, error) {
		return Params{}, fmt.Errorf("%w: %s", ErrParam, fmt.Sprintf(format, a...))
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(ParamNames, k) {
			return bad("unknown parameter %q (known: %s)", report.ClipValue(k), strings.Join(ParamNames, ", "))
		}
		if len(v[k]) > 1 {
			return bad("parameter %s is given %d times; give it once", k, len(v[k]))
		}
	}
	p := Params{Period: v.Get("period"), OPD: v.Get("opd"), Lang: v.Get("lang")}
	if p.Period == "" {
		return bad("period is required: 2026 (a year), 2026-Q4, 2026-10 or 2026-10-01..2026-10-15")
	}
	if _, err := sla.ParsePeriod(p.Period, time.UTC); err != nil {
		return bad("period: %v", err)
	}
	if s := v.Get("indicator"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || len(s) > 4 {
			return bad("indicator %q: want an SPBE indicator's number, one of %s", report.ClipValue(s), numbers(m))
		}
		if !slices.ContainsFunc(m, func(b report.BundleIndicator) bool { return b.Indicator.Number == n }) {
			return bad("indicator %d: Pantau holds no evidence for it; want one of %s (spbe.yml, bundle)", n, numbers(m))
		}
		p.Indicator = n
	}
	if p.OPD != "" && !validID(p.OPD) {
		return bad("opd %q: an OPD id is 1 to 64 letters, digits, '-', '_' or '.'", report.ClipValue(p.OPD))
	}
	switch p.Lang {
	case "":
		p.Lang = "id"
	case "id", "en":
	default:
		return bad("lang %q: want id (Bahasa Indonesia) or en", report.ClipValue(p.Lang))
	}
	return p, nil
}

func numbers(m []report.BundleIndicator) string {
	var s []string
	for _, b := range m {
		s = append(s, strconv.Itoa(b.Indicator.Number))
	}
	return strings.Join(s, ", ")
}

func validID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
