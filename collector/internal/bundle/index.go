package bundle

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

// text is the bundle's own user-facing text: Bahasa Indonesia, English.
var text = map[string][2]string{
	"title":        {"Berkas Bukti SPBE", "SPBE Evidence Bundle"},
	"index":        {"Daftar isi berkas bukti", "Evidence bundle index"},
	"period":       {"Periode", "Period"},
	"scope":        {"Cakupan", "Scope"},
	"pemda":        {"Seluruh Pemda", "The whole Pemda"},
	"generated":    {"Dibuat", "Generated"},
	"generator":    {"Pembuat", "Generator"},
	"indicator":    {"Indikator", "Indicator"},
	"aspect":       {"Aspek", "Aspect"},
	"file":         {"Berkas", "File"},
	"doc":          {"Nomor dokumen", "Document number"},
	"size":         {"Ukuran (bita)", "Size (bytes)"},
	"missing":      {"Tidak tersedia dalam berkas ini", "Not available in this bundle"},
	"nomissing":    {"Semua produk dan berkas yang dipetakan tersedia.", "Every mapped product and file is included."},
	"nopdf":        {"Versi PDF daftar isi ini tidak tersedia: pembuat PDF (Chromium) tidak terpasang pada kolektor.", "No PDF of this index: the PDF renderer (Chromium) is not installed on the collector."},
	"hash":         {"Nilai SHA-256 setiap berkas ada di manifest.json; periksa dengan sha256sum.", "Each file's SHA-256 is in manifest.json; check with sha256sum."},
	"note":         {"Berkas ini adalah bukti pendukung dan tidak memberi nilai atau tingkat kematangan SPBE; penilaian dilakukan oleh evaluator SPBE.", "This bundle is supporting evidence and assigns no SPBE score or maturity level; the SPBE evaluators assess those."},
	"minutes":      {"Notulen reviu", "Review minutes"},
	"month":        {"Periode yang direviu", "Period reviewed"},
	"held":         {"Tanggal reviu", "Held on"},
	"participants": {"Peserta", "Participants"},
	"findings":     {"Temuan", "Findings"},
	"followups":    {"Tindak lanjut", "Follow-ups"},
	"review":       {"reviu", "review"},
	"reviewscope":  {"cakupan reviu", "review scope"},
	"opened":       {"dibuka", "opened"},
	"item":         {"rekomendasi", "item"},
	"owner":        {"penanggung jawab", "owner"},
	"due":          {"tenggat", "due"},
	"status":       {"status", "status"},
	"evidence":     {"bukti", "evidence"},
	"updated":      {"tanggal status", "status date"},
	"none":         {"Tidak ada.", "None."},
	"assets":       {"Daftar Aset TIK", "TIK Asset Register"},
	"methods":      {"Metode", "Methods"},
	"monthly":      {"Laporan Infrastruktur SPBE", "SPBE Infrastructure Report"},
	"opd-sheet":    {"Lembar OPD", "OPD sheet"},
	"review-pack":  {"Paket Reviu Triwulan", "Quarterly Review Pack"},
	"annual":       {"Laporan Tahunan", "Annual Report"},
	"nodocs":       {"Tidak ada OPD dalam cakupan berkas ini.", "No OPD in the bundle's scope."},
}

func t(lang, key string) string {
	v, ok := text[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return v[1]
	}
	return v[0]
}

func texts(lang string) map[string]string {
	m := make(map[string]string, len(text))
	for k := range text {
		m[k] = t(lang, k)
	}
	return m
}

func productTitle(lang, product string) string { return t(lang, product) }

// docTitle names a document: "Paket Reviu Triwulan 2026-Q4", "Lembar
// OPD Dinas Kesehatan 2026-10".
func docTitle(lang string, d Doc, opdName func(string) string) string {
	s := productTitle(lang, d.Product)
	if d.OPD != "" {
		n := d.OPD
		if opdName != nil {
			if v := opdName(d.OPD); v != "" {
				n = v
			}
		}
		s += " " + n
	}
	return s + " " + d.Period
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{"size": func(int64) string { return "" }}).Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.T.title}} {{.M.Period}}</title>
<style>body{font-family:sans-serif;margin:2em}th,td{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}table{border-collapse:collapse;margin-bottom:1em}code{font-size:90%}</style></head>
<body><h1>{{.T.title}}</h1>
<table>
<tr><th>{{.T.period}}</th><td>{{.Period}}</td></tr>
<tr><th>{{.T.scope}}</th><td>{{.Scope}}</td></tr>
<tr><th>{{.T.generated}}</th><td>{{.Generated}}</td></tr>
<tr><th>{{.T.generator}}</th><td>{{.M.Generator}}</td></tr>
</table>
<p>{{.T.hash}}</p>
{{range .Ind}}<h2>{{$.T.indicator}} {{.Number}}: {{.Name}}</h2>
<p>{{$.T.aspect}}: {{.Aspect}}</p>
<table><tr><th>{{$.T.file}}</th><th>{{$.T.doc}}</th><th>{{$.T.size}}</th></tr>
{{range .Files}}<tr><td><a href="{{.Path}}">{{.Title}}</a><br><code>{{.Path}}</code></td><td>{{.DocumentNumber}}</td><td>{{size .Size}}</td></tr>
{{end}}</table>
{{if .Missing}}<p>{{$.T.missing}}:</p><ul>{{range .Missing}}<li>{{.What}}: {{.Reason}}</li>{{end}}</ul>{{end}}
{{end}}
{{if not .PDF}}<p>{{.T.nopdf}}</p>{{end}}
<p><small>{{.T.note}}</small></p>
</body></html>
`))

type indexIndicator struct {
	report.Indicator
	Files   []FileInfo
	Missing []Missing
}

// indexHTML is index.html: per indicator, its files (with document
// numbers and sizes) and what is missing and why.
func (b *Bundle) indexHTML(man *Manifest) []byte {
	var ind []indexIndicator
	for _, bi := range b.m {
		ii := indexIndicator{Indicator: bi.Indicator}
		for _, f := range man.Files {
			if f.Indicator == bi.Indicator.Number {
				ii.Files = append(ii.Files, f)
			}
		}
		for _, m := range b.missing {
			if m.Indicator == bi.Indicator.Number {
				ii.Missing = append(ii.Missing, m)
			}
		}
		ind = append(ind, ii)
	}
	scope := t(b.p.Lang, "pemda")
	name := func(id string) string {
		if b.in.OPDName != nil {
			if n := b.in.OPDName(id); n != "" && n != id {
				return n + " (" + id + ")"
			}
		}
		return id
	}
	switch {
	case b.scope.OPD != "":
		scope = "OPD " + name(b.scope.OPD)
	case len(b.scope.OPDs) > 0:
		names := make([]string, len(b.scope.OPDs))
		for i, id := range b.scope.OPDs {
			names[i] = name(id)
		}
		scope = "OPD " + strings.Join(names, ", ")
	}
	var buf bytes.Buffer
	// sizes, the period and the date as the report writes them in lang
	// ("12.345", "Triwulan IV 2026", "7 Desember 2026 09:00 WIT")
	tmpl := template.Must(indexTmpl.Clone()).Funcs(template.FuncMap{"size": func(n int64) string { return report.FormatInt(b.p.Lang, n) }})
	err := tmpl.Execute(&buf, map[string]any{"Lang": b.p.Lang, "T": texts(b.p.Lang), "M": man, "Scope": scope,
		"Period":    report.FormatPeriod(b.p.Lang, man.Period),
		"Generated": report.FormatStamp(b.p.Lang, b.in.Now.In(b.in.Zone)), "Ind": ind, "PDF": b.in.PDF != nil})
	if err != nil {
		panic(err) // a template bug: the data cannot fail it
	}
	return buf.Bytes()
}
