package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// records are the period's reviews and follow-ups in the bundle's
// scope, and the uploaded evidence files they reference.
type records struct {
	reviews   []statedb.Review
	followUps []statedb.FollowUp
	scopes    map[int64]string // review id -> scope
	files     []evidenceFile
	missing   []string // why a referenced file is not in the bundle
}

type evidenceFile struct {
	ev   statedb.Evidence
	path string // on disk
}

// loadRecords reads the reviews of the period's months and the
// follow-ups open during it (each with its status at the period's end,
// and the files every update up to then named), keeping those of the
// scope: a review's scope is its
// OPD ("" the whole Pemda, only in an unscoped, whole-Pemda bundle); a
// follow-up's is its review's.
func loadRecords(ctx context.Context, in Input, per sla.Period, s Scope) (*records, error) {
	last := per.End.Add(-1).In(in.Zone)
	first := per.Start.In(in.Zone)
	all, err := in.Records.Reviews(ctx, "0000-00", "9999-99")
	if err != nil {
		return nil, fmt.Errorf("read the reviews: %w", err)
	}
	rc := &records{scopes: map[int64]string{}}
	for _, rv := range all {
		rc.scopes[rv.ID] = rv.Scope
		if rv.Month >= first.Format("2006-01") && rv.Month <= last.Format("2006-01") && s.sees(rv.Scope) {
			rc.reviews = append(rc.reviews, rv)
		}
	}
	fus, err := in.Records.FollowUpsAsOf(ctx, first.Format("2006-01-02"), last.Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("read the follow-ups: %w", err)
	}
	refs, err := in.Records.FollowUpEvidence(ctx, last.Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("read the follow-ups' evidence: %w", err)
	}
	seen := map[string]bool{}
	for _, f := range fus {
		if !s.sees(rc.scopes[f.ReviewID]) {
			continue
		}
		rc.followUps = append(rc.followUps, f)
		for _, ref := range refs[f.ID] {
			sha := strings.TrimPrefix(ref, statedb.EvidenceRef)
			if seen[sha] {
				continue
			}
			seen[sha] = true
			if err := rc.addFile(ctx, in, f.ID, sha); err != nil {
				return nil, err
			}
		}
	}
	return rc, nil
}

// addFile adds an uploaded file that follow-up id names, or notes why
// it cannot.
func (rc *records) addFile(ctx context.Context, in Input, id int64, sha string) error {
	if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		rc.missing = append(rc.missing, fmt.Sprintf("follow-up %d: evidence %q is not a SHA-256", id, report.ClipValue(sha)))
		return nil
	}
	ev, err := in.Records.EvidenceFile(ctx, sha)
	if errors.Is(err, statedb.ErrNoEvidence) {
		rc.missing = append(rc.missing, fmt.Sprintf("follow-up %d: evidence %s is not on record", id, sha))
		return nil
	}
	if err != nil {
		return fmt.Errorf("read evidence file %s: %w", sha, err)
	}
	path := filepath.Join(in.EvidenceDir, sha)
	if fi, err := os.Stat(path); err != nil || fi.Size() != ev.Size {
		rc.missing = append(rc.missing, fmt.Sprintf("follow-up %d: evidence file %s (%s) is on record but missing or changed in the data directory: restore evidence/%s from a backup",
			id, sha, ev.Filename, sha))
		return nil
	}
	rc.files = append(rc.files, evidenceFile{ev, path})
	return nil
}

// entries are the records' files in an indicator's folder: the minutes
// of each review, the follow-ups as CSV, and the evidence files.
func (rc *records) entries(b *Bundle, dir string, n int) []entry {
	lang := b.p.Lang
	var out []entry
	for _, rv := range rc.reviews {
		var fus []statedb.FollowUp
		for _, f := range rc.followUps {
			if f.ReviewID == rv.ID {
				fus = append(fus, f)
			}
		}
		body := minutesHTML(lang, rv, fus)
		out = append(out, entry{path: fmt.Sprintf("%s/reviu/notulen-%s-%d.html", dir, safeName(rv.HeldOn), rv.ID), body: body, size: int64(len(body)),
			indicator: n, kind: "review", title: fmt.Sprintf("%s %s (%s)", t(lang, "minutes"), reviewPeriod(lang, rv), rv.HeldOn)})
	}
	csv := followUpsCSV(lang, rc.followUps, rc.scopes)
	out = append(out, entry{path: dir + "/reviu/tindak-lanjut.csv", body: csv, size: int64(len(csv)), indicator: n, kind: "followups", title: t(lang, "followups")})
	for _, f := range rc.files {
		out = append(out, entry{path: dir + "/reviu/bukti/" + evidenceName(f.ev), file: f.path, size: f.ev.Size,
			indicator: n, kind: "evidence", title: t(lang, "evidence") + ": " + f.ev.Filename})
	}
	for _, m := range rc.missing {
		b.missing = append(b.missing, Missing{n, "evidence", m})
	}
	return out
}

// evidenceName is an uploaded file's entry name: the first 12 hex
// digits of its SHA-256, then its name as safeName makes it, cut (its
// extension kept) to safeName's 80 bytes: an upload's name may be 200
// characters.
func evidenceName(ev statedb.Evidence) string {
	return safeName(ev.SHA256[:12] + "-" + safeName(ev.Filename))
}

var minutesTmpl = template.Must(template.New("minutes").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.T.minutes}} {{.Period}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}th,td{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}table{border-collapse:collapse}pre{white-space:pre-wrap;font-family:inherit}</style></head>
<body><h1>{{.T.minutes}}</h1>
<table>
<tr><th>{{.T.month}}</th><td>{{.Period}}</td></tr>
<tr><th>{{.T.held}}</th><td>{{.R.HeldOn}}</td></tr>
<tr><th>{{.T.scope}}</th><td>{{if .R.Scope}}{{.R.Scope}}{{else}}{{.T.pemda}}{{end}}</td></tr>
<tr><th>{{.T.participants}}</th><td><pre>{{.R.Participants}}</pre></td></tr>
<tr><th>{{.T.findings}}</th><td><pre>{{.R.Findings}}</pre></td></tr>
</table>
<h2>{{.T.followups}}</h2>
{{if .F}}<table><tr><th>#</th><th>{{.T.item}}</th><th>{{.T.owner}}</th><th>{{.T.due}}</th><th>{{.T.status}}</th><th>{{.T.evidence}}</th><th>{{.T.updated}}</th></tr>
{{range .F}}<tr><td>{{.ID}}</td><td>{{.Item}}</td><td>{{.Owner}}</td><td>{{.Due}}</td><td>{{.Status}}</td><td>{{.Evidence}}</td><td>{{.Updated}}</td></tr>
{{end}}</table>{{else}}<p>{{.T.none}}</p>{{end}}
</body></html>
`))

// reviewPeriod is the period a review covers as a reader says it:
// "Oktober 2026" for a monthly review, "Triwulan IV 2026" (Q4 2026) for
// a quarterly one.
func reviewPeriod(lang string, rv statedb.Review) string {
	return report.FormatPeriod(lang, statedb.ReviewPeriod(rv.Kind, rv.Month))
}

func minutesHTML(lang string, rv statedb.Review, fus []statedb.FollowUp) []byte {
	var buf bytes.Buffer
	if err := minutesTmpl.Execute(&buf, map[string]any{"Lang": lang, "T": texts(lang), "R": rv, "Period": reviewPeriod(lang, rv), "F": fus}); err != nil {
		panic(err) // a template bug: the data cannot fail it
	}
	return buf.Bytes()
}

func followUpsCSV(lang string, fus []statedb.FollowUp, scopes map[int64]string) []byte {
	tb := report.Table{Columns: []string{"id", t(lang, "review"), t(lang, "reviewscope"), t(lang, "opened"), t(lang, "item"), t(lang, "owner"),
		t(lang, "due"), t(lang, "status"), t(lang, "evidence"), t(lang, "updated")}}
	for _, f := range fus {
		rid := ""
		if f.ReviewID != 0 {
			rid = strconv.FormatInt(f.ReviewID, 10)
		}
		tb.Rows = append(tb.Rows, []any{f.ID, rid, scopes[f.ReviewID], f.Opened, f.Item, f.Owner, f.Due, f.Status, f.Evidence, f.Updated})
	}
	b, err := tableCSV(tb)
	if err != nil {
		panic(err) // writing to memory cannot fail
	}
	return b
}

// assets are the asset register of the scope, as XLSX and CSV.
func (b *Bundle) assets(ctx context.Context, dir string, n int) ([]entry, error) {
	tb, err := b.in.Tables.Table(ctx, "assets", b.scope, b.p.Period)
	if errors.Is(err, ErrUnavailable) {
		b.missing = append(b.missing, Missing{n, "assets", err.Error()})
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var x bytes.Buffer
	if err := report.WriteTableXLSX(&x, tb, b.p.Lang); err != nil {
		return nil, fmt.Errorf("write the asset register: %w", err)
	}
	c, err := tableCSV(tb)
	if err != nil {
		return nil, fmt.Errorf("write the asset register: %w", err)
	}
	title := t(b.p.Lang, "assets")
	return []entry{
		{path: dir + "/aset/daftar-aset.xlsx", body: x.Bytes(), size: int64(x.Len()), indicator: n, kind: "assets", title: title + " (XLSX)"},
		{path: dir + "/aset/daftar-aset.csv", body: c, size: int64(len(c)), indicator: n, kind: "assets", title: title + " (CSV)"},
	}, nil
}

var methodsTmpl = template.Must(template.New("methods").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.T.methods}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}th,td{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}table{border-collapse:collapse}</style></head>
<body><h1>{{.T.methods}}</h1>
<table><tr>{{range .Tb.Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
</body></html>
`))

// methods are the report's method statements as an HTML page.
func (b *Bundle) methods(ctx context.Context, dir string, n int) ([]entry, error) {
	tb, err := b.in.Tables.Table(ctx, "methods", b.scope, b.p.Period)
	if errors.Is(err, ErrUnavailable) {
		b.missing = append(b.missing, Missing{n, "methods", err.Error()})
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(tb.Rows))
	for i, r := range tb.Rows {
		for _, c := range r {
			rows[i] = append(rows[i], report.CellText(c))
		}
	}
	var buf bytes.Buffer
	if err := methodsTmpl.Execute(&buf, map[string]any{"Lang": b.p.Lang, "T": texts(b.p.Lang), "Tb": tb, "Rows": rows}); err != nil {
		return nil, fmt.Errorf("write the methods: %w", err)
	}
	return []entry{{path: dir + "/metode.html", body: buf.Bytes(), size: int64(buf.Len()), indicator: n, kind: "methods", title: t(b.p.Lang, "methods")}}, nil
}
