package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// fakeProducts renders every product and format as a short text naming
// what it is, with a document number, except those in unavailable.
type fakeProducts struct {
	unavailable map[string]bool // "product.format"
	opds        []string        // the OPD sheet's OPDs (nil: one sheet without an OPD)
	calls       int
}

func (f *fakeProducts) Documents(ctx context.Context, product string, s Scope, period string) ([]Doc, error) {
	if product == report.ProductOPDSheet && f.opds != nil {
		var out []Doc
		for _, o := range f.opds {
			out = append(out, Doc{Product: product, Period: period, OPD: o})
		}
		return out, nil
	}
	return []Doc{{Product: product, Period: period}}, nil
}

func (f *fakeProducts) Render(ctx context.Context, d Doc, format string, s Scope) ([]byte, string, error) {
	product, period := d.Product, d.Period
	f.calls++
	if f.unavailable[product+"."+format] {
		return nil, "", fmt.Errorf("%w: test", ErrUnavailable)
	}
	opd := ""
	if d.OPD != "" {
		opd = fmt.Sprintf(" opd=%q", d.OPD)
	}
	return fmt.Appendf(nil, "%s %s %s%s scope=%s", product, format, period, opd, s.key()), "001/LAP-INFRA/" + product + "/2026", nil
}

type fakeTables struct{}

func (fakeTables) Table(ctx context.Context, name string, s Scope, period string) (report.Table, error) {
	switch name {
	case "assets":
		return report.Table{Name: "assets", Title: "Daftar Aset TIK", Columns: []string{"perangkat", "OPD"}, Rows: [][]any{{"rtr-" + s.OPD, s.OPD}}}, nil
	case "methods":
		return report.Table{Name: "methods", Title: "Metode", Columns: []string{"angka", "metode"}, Rows: [][]any{{"ketersediaan", "naik / (menit - pemeliharaan)"}}}, nil
	}
	return report.Table{}, fmt.Errorf("unknown table %s", name)
}

// fixture is a state.db with two reviews (dinkes's and dishub's) in
// October 2026, a follow-up of each closed with an uploaded evidence
// file, and one review outside the period.
type fixture struct {
	db          *statedb.DB
	evDir       string
	dinkesPDF   []byte // the dinkes follow-up's evidence, named ../x.pdf
	dishubText  []byte // the dishub follow-up's evidence, named ..\..\evil.txt
	dinkesSHA   string
	photo       []byte // an earlier update's evidence of the dinkes item
	photoSHA    string
	dishubSHA   string
	dinkesRevID int64
	dishubRevID int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := statedb.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, evDir: filepath.Join(dir, "evidence")}
	if err := os.MkdirAll(f.evDir, 0o750); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	upload := func(name string, body []byte) string {
		sum := sha256.Sum256(body)
		sha := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(f.evDir, sha), body, 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddEvidence(ctx, statedb.Evidence{SHA256: sha, Size: int64(len(body)), ContentType: "application/pdf", Filename: name, Uploaded: now, UploadedBy: "token:o"}); err != nil {
			t.Fatal(err)
		}
		return sha
	}
	f.dinkesPDF = []byte("%PDF-1.4\nberita acara penggantian kabel FO dinkes\n%%EOF\n")
	f.dishubText = []byte("tiket ISP 4711 ditutup\n")
	f.dinkesSHA = upload("../x.pdf", f.dinkesPDF)
	f.dishubSHA = upload(`..\..\evil.txt`, f.dishubText)
	f.photo = []byte("\xff\xd8\xff\xe0 foto modem")
	f.photoSHA = upload("foto modem.jpg", f.photo)
	review := func(month, held, scope string) int64 {
		id, err := db.AddReview(ctx, statedb.Review{Month: month, HeldOn: held, Scope: scope, Participants: "Kabid TIK, admin jaringan", Findings: "jalur " + scope + " putus 3 kali"}, now)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.dinkesRevID = review("2026-10", "2026-11-02", "dinkes")
	f.dishubRevID = review("2026-10", "2026-11-03", "dishub")
	review("2025-12", "2026-01-05", "dinkes") // outside 2026
	followUp := func(rev int64, sha string) {
		id, err := db.AddFollowUp(ctx, statedb.FollowUp{ReviewID: rev, Opened: "2026-11-02", Item: "ganti kabel", Owner: "admin"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if rev == f.dinkesRevID { // in progress with a photo, then closed with the PDF
			if err := db.UpdateFollowUp(ctx, id, "2026-11-10", statedb.StatusProses, statedb.EvidenceRef+f.photoSHA, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.UpdateFollowUp(ctx, id, "2026-11-20", statedb.StatusSelesai, statedb.EvidenceRef+sha, ""); err != nil {
			t.Fatal(err)
		}
	}
	followUp(f.dinkesRevID, f.dinkesSHA)
	followUp(f.dishubRevID, f.dishubSHA)
	return f
}

func (f *fixture) input(p ProductRenderer) Input {
	return Input{Products: p, Tables: fakeTables{}, Records: f.db, EvidenceDir: f.evDir, Zone: time.UTC, Generator: "pantau test",
		Now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
}

// build plans and writes a bundle, and returns its bytes.
func build(t *testing.T, in Input, p Params, s Scope, lim Limits) ([]byte, *Manifest) {
	t.Helper()
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Plan(context.Background(), in, m, p, s, lim)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	man, err := b.Write(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), man
}

// unzip reads every entry, checking the manifest against the files: each
// file the manifest lists is in the ZIP with that size and SHA-256, and
// the ZIP holds nothing else but manifest.json.
func unzip(t *testing.T, b []byte) (map[string][]byte, []string, Manifest) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := files[f.Name]; dup {
			t.Errorf("%s is in the ZIP twice", f.Name)
		}
		files[f.Name] = body
		order = append(order, f.Name)
	}
	var man Manifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	listed := map[string]bool{"manifest.json": true}
	for _, fi := range man.Files {
		body, ok := files[fi.Path]
		if !ok {
			t.Errorf("manifest lists %s, which is not in the ZIP", fi.Path)
			continue
		}
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); got != fi.SHA256 {
			t.Errorf("%s: SHA-256 %s, manifest says %s", fi.Path, got, fi.SHA256)
		}
		if int64(len(body)) != fi.Size {
			t.Errorf("%s: %d bytes, manifest says %d", fi.Path, len(body), fi.Size)
		}
		listed[fi.Path] = true
	}
	for name := range files {
		if !listed[name] {
			t.Errorf("%s is in the ZIP but not in the manifest", name)
		}
	}
	return files, order, man
}

// spbeBundle reads spbe.yml's bundle block as the test's own reference.
func spbeBundle(t *testing.T) map[int]struct {
	Products []struct {
		Product string   `yaml:"product"`
		Formats []string `yaml:"formats"`
	} `yaml:"products"`
	Records []string `yaml:"records"`
} {
	t.Helper()
	src, err := os.ReadFile("../report/spbe.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Bundle []struct {
			Indicator int `yaml:"indicator"`
			Products  []struct {
				Product string   `yaml:"product"`
				Formats []string `yaml:"formats"`
			} `yaml:"products"`
			Records []string `yaml:"records"`
		} `yaml:"bundle"`
	}
	if err := yaml.Unmarshal(src, &m); err != nil {
		t.Fatal(err)
	}
	out := map[int]struct {
		Products []struct {
			Product string   `yaml:"product"`
			Formats []string `yaml:"formats"`
		} `yaml:"products"`
		Records []string `yaml:"records"`
	}{}
	for _, b := range m.Bundle {
		out[b.Indicator] = struct {
			Products []struct {
				Product string   `yaml:"product"`
				Formats []string `yaml:"formats"`
			} `yaml:"products"`
			Records []string `yaml:"records"`
		}{b.Products, b.Records}
	}
	return out
}

// TestBundleIndicator28 bundles indicator 28 for the whole Pemda: the
// folder holds exactly what spbe.yml maps to 28 (every product in every
// format, the minutes of the period's two reviews, the follow-ups and
// both evidence files with their original bytes, the methods), every
// hash and size in the manifest matches, and the index lists them.
func TestBundleIndicator28(t *testing.T) {
	f := newFixture(t)
	b, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026", Indicator: 28, Lang: "id"}, Scope{}, Limits{})
	files, order, man := unzip(t, b)

	dir := "indikator-28-manajemen-layanan-spbe/"
	var want []string
	for _, p := range spbeBundle(t)[28].Products {
		for _, fm := range p.Formats {
			want = append(want, dir+"produk/"+p.Product+"-2026."+fm)
		}
	}
	// spbe.yml: 28 has records [reviews, methods]; the reviews of 2026
	// are dinkes's (held 2026-11-02) and dishub's (2026-11-03), not the
	// one of 2025-12.
	want = append(want,
		fmt.Sprintf("%sreviu/notulen-2026-11-02-%d.html", dir, f.dinkesRevID),
		fmt.Sprintf("%sreviu/notulen-2026-11-03-%d.html", dir, f.dishubRevID),
		dir+"reviu/tindak-lanjut.csv",
		dir+"reviu/bukti/"+f.photoSHA[:12]+"-foto-modem.jpg", // the dinkes item's first evidence
		dir+"reviu/bukti/"+f.dinkesSHA[:12]+"-x.pdf",         // "../x.pdf"
		dir+"reviu/bukti/"+f.dishubSHA[:12]+"-evil.txt",      // `..\..\evil.txt`
		dir+"metode.html",
		"index.html", "manifest.json")
	if !slices.Equal(order, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	if got := files[dir+"reviu/bukti/"+f.dinkesSHA[:12]+"-x.pdf"]; !bytes.Equal(got, f.dinkesPDF) {
		t.Errorf("dinkes evidence: %q, want the uploaded bytes %q", got, f.dinkesPDF)
	}
	if got := files[dir+"reviu/bukti/"+f.dishubSHA[:12]+"-evil.txt"]; !bytes.Equal(got, f.dishubText) {
		t.Errorf("dishub evidence: %q, want the uploaded bytes %q", got, f.dishubText)
	}
	if got := files[dir+"reviu/bukti/"+f.photoSHA[:12]+"-foto-modem.jpg"]; !bytes.Equal(got, f.photo) {
		t.Errorf("dinkes's earlier evidence: %q, want the uploaded bytes %q", got, f.photo)
	}
	minutes := string(files[fmt.Sprintf("%sreviu/notulen-2026-11-02-%d.html", dir, f.dinkesRevID)])
	for _, s := range []string{"Notulen reviu", "Periode yang direviu</th><td>Oktober 2026<", "Kabid TIK, admin jaringan", "jalur dinkes putus 3 kali", "ganti kabel", "selesai", "sha256:" + f.dinkesSHA} {
		if !strings.Contains(minutes, s) {
			t.Errorf("minutes lack %q:\n%s", s, minutes)
		}
	}
	for _, fi := range man.Files {
		if fi.Kind == "product" && fi.DocumentNumber == "" {
			t.Errorf("%s: no document number", fi.Path)
		}
	}
	if man.Period != "2026" || !slices.Equal(man.Indicators, []int{28}) || len(man.Missing) != 0 {
		t.Errorf("manifest: period %s, indicators %v, missing %v", man.Period, man.Indicators, man.Missing)
	}
	idx := string(files["index.html"])
	for _, s := range []string{"Indikator 28: Manajemen Layanan SPBE", "001/LAP-INFRA/review-pack/2026", dir + "metode.html", "Chromium"} {
		if !strings.Contains(idx, s) {
			t.Errorf("index lacks %q", s)
		}
	}
}

// TestBundleAllIndicators bundles every indicator: one folder each with
// exactly the products and records spbe.yml maps to it; a product
// rendered once is stored in each folder that lists it; an unavailable
// product is absent and named in the index and manifest.
func TestBundleAllIndicators(t *testing.T) {
	f := newFixture(t)
	fp := &fakeProducts{unavailable: map[string]bool{"annual.pdf": true}}
	b, _ := build(t, f.input(fp), Params{Period: "2026", Lang: "en"}, Scope{}, Limits{})
	files, _, man := unzip(t, b)
	ref := spbeBundle(t)
	folders := map[int]string{16: "indikator-16-layanan-pusat-data/", 17: "indikator-17-layanan-jaringan-intra/", 18: "indikator-18-sistem-penghubung-layanan/",
		24: "indikator-24-manajemen-aset-tik/", 28: "indikator-28-manajemen-layanan-spbe/", 29: "indikator-29-audit-infrastruktur-spbe/"}
	if len(ref) != len(folders) {
		t.Fatalf("spbe.yml maps %d indicators, the test knows %d", len(ref), len(folders))
	}
	renders := map[string]bool{}
	for n, dir := range folders {
		var want, got []string
		for _, p := range ref[n].Products {
			for _, fm := range p.Formats {
				renders[p.Product+"."+fm] = true
				if p.Product == "annual" && fm == "pdf" {
					continue
				}
				want = append(want, dir+"produk/"+p.Product+"-2026."+fm)
			}
		}
		for _, r := range ref[n].Records {
			switch r {
			case "reviews":
				want = append(want, fmt.Sprintf("%sreviu/notulen-2026-11-02-%d.html", dir, f.dinkesRevID), fmt.Sprintf("%sreviu/notulen-2026-11-03-%d.html", dir, f.dishubRevID),
					dir+"reviu/tindak-lanjut.csv", dir+"reviu/bukti/"+f.photoSHA[:12]+"-foto-modem.jpg", dir+"reviu/bukti/"+f.dinkesSHA[:12]+"-x.pdf", dir+"reviu/bukti/"+f.dishubSHA[:12]+"-evil.txt")
			case "assets":
				want = append(want, dir+"aset/daftar-aset.xlsx", dir+"aset/daftar-aset.csv")
			case "methods":
				want = append(want, dir+"metode.html")
			}
		}
		for name := range files {
			if strings.HasPrefix(name, dir) {
				got = append(got, name)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("indicator %d:\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if fp.calls != len(renders) {
		t.Errorf("%d renders, want %d (each product and format once)", fp.calls, len(renders))
	}
	// annual.pdf is mapped to 16, 17, 24 and 29.
	var missing []int
	for _, m := range man.Missing {
		if m.What == "Annual Report 2026 (pdf)" {
			missing = append(missing, m.Indicator)
		}
	}
	if !slices.Equal(missing, []int{16, 17, 24, 29}) {
		t.Errorf("missing annual (pdf) in %v, want 16, 17, 24, 29", missing)
	}
	if idx := string(files["index.html"]); !strings.Contains(idx, "Not available in this bundle") || !strings.Contains(idx, "Indicator 24: Manajemen Aset TIK") {
		t.Errorf("index (en) lacks the missing list or indicator 24:\n%s", idx)
	}
}

// TestBundleScoped bundles indicator 28 for a credential scoped to
// dinkes: dishub's minutes, follow-up and evidence file are not in it.
func TestBundleScoped(t *testing.T) {
	f := newFixture(t)
	b, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026", Indicator: 28}, Scope{OPD: "dinkes", Reader: []string{"dinkes"}}, Limits{})
	files, _, _ := unzip(t, b)
	dir := "indikator-28-manajemen-layanan-spbe/"
	if _, ok := files[dir+"reviu/bukti/"+f.dinkesSHA[:12]+"-x.pdf"]; !ok {
		t.Error("dinkes's evidence is missing")
	}
	for name, body := range files {
		if strings.Contains(name, f.dishubSHA[:12]) || strings.Contains(name, fmt.Sprintf("-%d.html", f.dishubRevID)) {
			t.Errorf("%s: dishub's record in a dinkes bundle", name)
		}
		if bytes.Contains(body, []byte("dishub")) || bytes.Contains(body, []byte(f.dishubSHA)) {
			t.Errorf("%s names dishub or its evidence", name)
		}
	}
	if got := string(files[dir+"produk/monthly-2026.html"]); got != "monthly html 2026 scope=dinkes||dinkes" {
		t.Errorf("product rendered for %q, want the dinkes scope", got)
	}
}

// TestBundleNamesSafe: whatever an evidence file was named, every entry
// is a relative ASCII path without "..", "\" or ":".
func TestBundleNamesSafe(t *testing.T) {
	for _, name := range []string{"../x", "../../etc/passwd", `..\..\evil.txt`, "/abs/path.pdf", "C:\\x.pdf", "....", "..", ".", "", "laporan ø ü.pdf", "a/../../b", strings.Repeat("é", 300) + ".pdf"} {
		n := safeName(name)
		if !safePath("d/" + n) {
			t.Errorf("safeName(%q) = %q: not a safe path element", name, n)
		}
	}
	f := newFixture(t)
	b, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026"}, Scope{}, Limits{})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range zr.File {
		if !filepath.IsLocal(e.Name) || strings.Contains(e.Name, "..") || strings.ContainsAny(e.Name, `\:`) {
			t.Errorf("entry %q is not a safe relative path", e.Name)
		}
		for _, c := range e.Name {
			if c > 0x7e || c < 0x20 {
				t.Errorf("entry %q is not ASCII", e.Name)
			}
		}
		if e.NonUTF8 {
			t.Errorf("entry %q: not marked UTF-8-safe", e.Name)
		}
	}
}

// TestBundleDeterministic: the same bundle twice is the same bytes.
func TestBundleDeterministic(t *testing.T) {
	f := newFixture(t)
	a, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026"}, Scope{}, Limits{})
	b, _ := build(t, f.input(&fakeProducts{}), Params{Period: "2026"}, Scope{}, Limits{})
	if !bytes.Equal(a, b) {
		t.Error("two bundles of the same records differ")
	}
}

// TestBundleLimits: a bundle over the entry or byte limit is refused by
// Plan, before anything is written; one at the limit is not.
func TestBundleLimits(t *testing.T) {
	f := newFixture(t)
	m, err := report.BundleMap()
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Period: "2026", Indicator: 28, Lang: "id"}
	_, man := build(t, f.input(&fakeProducts{}), p, Scope{}, Limits{})
	// The planned files: all but index.html (written last, after the
	// plan); the entries are those plus index.html and manifest.json.
	var planned int64
	n := 0
	for _, fi := range man.Files {
		if fi.Kind != "index" {
			planned += fi.Size
			n++
		}
	}
	cases := []struct {
		lim    Limits
		reason string
	}{
		{Limits{MaxEntries: n + 2}, ""},
		{Limits{MaxEntries: n + 1}, "too_many_entries"},
		{Limits{MaxBytes: planned}, ""},
		{Limits{MaxBytes: planned - 1}, "too_large"},
	}
	for _, c := range cases {
		_, err := Plan(context.Background(), f.input(&fakeProducts{}), m, p, Scope{}, c.lim)
		var le *LimitError
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%+v: %v, want no refusal", c.lim, err)
		case c.reason != "" && !errors.As(err, &le):
			t.Errorf("%+v: %v, want a limit error", c.lim, err)
		case c.reason != "" && le.Reason != c.reason:
			t.Errorf("%+v: reason %s, want %s", c.lim, le.Reason, c.reason)
		case c.reason != "" && !strings.Contains(le.Msg, "report.bundle_max_"):
			t.Errorf("%+v: %q does not name the config key", c.lim, le.Msg)
		}
	}
}

// TestBundleContext: a cancelled context stops the plan and the write.
func TestBundleContext(t *testing.T) {
	f := newFixture(t)
	m, _ := report.BundleMap()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Plan(ctx, f.input(&fakeProducts{}), m, Params{Period: "2026"}, Scope{}, Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("plan: %v, want context.Canceled", err)
	}
	b, err := Plan(context.Background(), f.input(&fakeProducts{}), m, Params{Period: "2026"}, Scope{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("write: %v, want context.Canceled", err)
	}
}

// TestBundleEvidenceChanged: an evidence file that is missing from the
// data directory is left out and named, with what to do.
func TestBundleEvidenceMissing(t *testing.T) {
	f := newFixture(t)
	if err := os.Remove(filepath.Join(f.evDir, f.dishubSHA)); err != nil {
		t.Fatal(err)
	}
	_, man := build(t, f.input(&fakeProducts{}), Params{Period: "2026", Indicator: 28}, Scope{}, Limits{})
	if len(man.Missing) != 1 || !strings.Contains(man.Missing[0].Reason, "restore evidence/"+f.dishubSHA+" from a backup") {
		t.Errorf("missing: %+v", man.Missing)
	}
}

// TestBundleEvidenceLongName: an uploaded file's name may be 200
// characters (httpapi.cleanFilename); its entry is still a safe path
// (not refused by Write after the 200 was sent), keeps the hash prefix
// and the extension.
func TestBundleEvidenceLongName(t *testing.T) {
	for _, name := range []string{
		"Berita_Acara_Penggantian_Kabel_FO_Dinas_Kesehatan_Kabupaten_Jayapura_November_2026.pdf",
		strings.Repeat("a", 67) + ".pdf", strings.Repeat("b", 200), strings.Repeat("c.", 100) + "jpeg",
	} {
		sha := strings.Repeat("9f86d081884c", 6)[:64]
		rc := &records{files: []evidenceFile{{ev: statedb.Evidence{SHA256: sha, Filename: name, Size: 1}, path: "/x"}}}
		b := &Bundle{p: Params{Lang: "id"}}
		for _, e := range rc.entries(b, "indikator-28-x", 28) {
			if !safePath(e.path) {
				t.Errorf("%q: entry %q is not a safe path", name, e.path)
			}
			if e.kind == "evidence" {
				el := e.path[strings.LastIndex(e.path, "/")+1:]
				if !strings.HasPrefix(el, sha[:12]+"-") || filepath.Ext(el) != filepath.Ext(safeName(name)) {
					t.Errorf("%q: evidence entry %q, want the hash prefix and extension %q", name, el, filepath.Ext(safeName(name)))
				}
			}
		}
	}
}
