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
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/report"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Scope is whose products and records a bundle holds, as the report
// takes it (report.Options; set by the caller from the credential's OPD
// scope and the opd parameter).
type Scope struct {
	OPD    string   `json:"opd,omitempty"`    // one OPD
	OPDs   []string `json:"opds,omitempty"`   // these OPDs (not with OPD)
	Reader []string `json:"reader,omitempty"` // the credential's OPDs (empty: unscoped)
}

// key identifies the scope in a cache.
func (s Scope) key() string {
	return s.OPD + "|" + strings.Join(s.OPDs, ",") + "|" + strings.Join(s.Reader, ",")
}

// sees reports whether a review of scope opd ("" : the whole Pemda)
// belongs in a bundle of this scope.
func (s Scope) sees(opd string) bool {
	switch {
	case s.OPD != "":
		return opd == s.OPD
	case len(s.OPDs) > 0:
		return slices.Contains(s.OPDs, opd)
	case len(s.Reader) > 0:
		return slices.Contains(s.Reader, opd)
	}
	return true
}

// ErrUnavailable is a product or format this build cannot render (a
// product not yet implemented, PDF without Chromium); the bundle goes on
// without it and its index says so.
var ErrUnavailable = errors.New("not available")

// ProductRenderer lists and renders a product's documents for a scope.
// Documents lists, without rendering anything, the documents of a
// product for the bundle's period (ProductPeriods; one per OPD for the
// OPD sheet). Render renders one in one format: the body and its
// document number ("" when it has none). A product or format it cannot
// render is ErrUnavailable (wrapped, with the reason and what to do);
// report.ErrInvalid and sla.ErrBadPeriod are the caller's mistakes.
type ProductRenderer interface {
	Documents(ctx context.Context, product string, s Scope, period string) ([]Doc, error)
	Render(ctx context.Context, d Doc, format string, s Scope) (body []byte, docNumber string, err error)
}

// FormatChecker is what a ProductRenderer may also have: whether a
// product's format can be rendered at all (ErrUnavailable, wrapped,
// when not), asked before anything is rendered so that the count of a
// bundle's files leaves out what it will not hold.
type FormatChecker interface {
	Unavailable(product, format string) error
}

// TableSource gives one of the report's tables (assets, methods) for a
// scope and period.
type TableSource interface {
	Table(ctx context.Context, name string, s Scope, period string) (report.Table, error)
}

// RecordSource gives the review records and the uploaded evidence files'
// rows (statedb.DB).
type RecordSource interface {
	Reviews(ctx context.Context, from, to string) ([]statedb.Review, error)
	FollowUpsAsOf(ctx context.Context, since, date string) ([]statedb.FollowUp, error)
	// FollowUpEvidence gives, per item, the "sha256:" references of its
	// updates on or before date, in the order first named.
	FollowUpEvidence(ctx context.Context, date string) (map[int64][]string, error)
	EvidenceFile(ctx context.Context, sha string) (statedb.Evidence, error)
}

// Limits bound a bundle; 0 is no limit.
type Limits struct {
	MaxBytes   int64 // the sum of the files' sizes (uncompressed)
	MaxEntries int   // files in the ZIP, index and manifest included
}

// LimitError is a bundle over a limit, refused before any byte of it
// is written. Reason is the refusal metric's label.
type LimitError struct {
	Reason string // too_large | too_many_entries
	Msg    string
}

func (e *LimitError) Error() string { return e.Msg }

// Input is where a bundle's files come from.
type Input struct {
	Products ProductRenderer
	Tables   TableSource
	Records  RecordSource // nil: no reviews
	// EvidenceDir holds the uploaded evidence files, each named by its
	// SHA-256 (data_dir/evidence).
	EvidenceDir string
	// PDF renders the index's HTML as PDF; nil: the index is HTML only
	// and says why.
	PDF func(ctx context.Context, html []byte) ([]byte, error)
	// Zone is the Pemda's zone, in which the period is read.
	Zone      *time.Location
	Generator string
	Now       time.Time // the bundle's date, and every entry's time
	// OPDName names an OPD in the index ("Dinas Kesehatan" for dinkes:
	// inventory.OPDName); nil or "": its id.
	OPDName func(id string) string
}

// entry is one file of the bundle: its bytes in memory (rendered
// products, records) or a file on disk (evidence, streamed).
type entry struct {
	path      string
	body      []byte
	file      string // on disk, when body is nil
	size      int64
	docNumber string
	indicator int
	kind      string
	title     string
}

// FileInfo is one file in manifest.json.
type FileInfo struct {
	Path           string `json:"path"`
	SHA256         string `json:"sha256"`
	Size           int64  `json:"size"`
	DocumentNumber string `json:"document_number,omitempty"`
	Indicator      int    `json:"indicator,omitempty"`
	Kind           string `json:"kind"` // index | product | review | followups | evidence | assets | methods
	Title          string `json:"title"`
}

// Missing is a product, format or file the bundle should hold but does
// not, and why.
type Missing struct {
	Indicator int    `json:"indicator"`
	What      string `json:"what"`
	Reason    string `json:"reason"`
}

// Manifest is manifest.json.
type Manifest struct {
	Period      string     `json:"period"`
	Indicators  []int      `json:"indicators"`
	Scope       Scope      `json:"scope"`
	Lang        string     `json:"lang"`
	GeneratedAt time.Time  `json:"generated_at"`
	Generator   string     `json:"generator"`
	Files       []FileInfo `json:"files"`
	Missing     []Missing  `json:"missing"`
}

// Bundle is a planned bundle: every file decided, products rendered,
// sizes known and within the limits; Write streams it.
type Bundle struct {
	p       Params
	scope   Scope
	in      Input
	m       []report.BundleIndicator
	entries []entry
	missing []Missing
	// index is index.html; indexPDF index.pdf (nil: none), printed in
	// Plan so that a render failure is answered before the first byte
	index, indexPDF []byte
}

// Plan decides a bundle's files and renders its products, refusing with
// a *LimitError when it would exceed lim (before anything is written,
// and before more than about MaxBytes is held in memory). Evidence
// files are not read until Write.
func Plan(ctx context.Context, in Input, m []report.BundleIndicator, p Params, s Scope, lim Limits) (*Bundle, error) {
	if in.Zone == nil {
		in.Zone = time.UTC
	}
	per, err := sla.ParsePeriod(p.Period, in.Zone)
	if err != nil {
		return nil, err
	}
	b := &Bundle{p: p, scope: s, in: in}
	for _, bi := range m {
		if p.Indicator == 0 || bi.Indicator.Number == p.Indicator {
			b.m = append(b.m, bi)
		}
	}
	var total int64
	extra := 2 // index.html and manifest.json
	if in.PDF != nil {
		extra++ // index.pdf
	}
	paths := map[string]bool{}
	add := func(e entry) error {
		// checked here too, not only in Write, so that a bad name fails
		// the request before the 200 rather than cutting the ZIP
		if !safePath(e.path) {
			return fmt.Errorf("bundle entry %q: not a safe path (a bug)", e.path)
		}
		if paths[e.path] {
			return fmt.Errorf("bundle entry %q twice (a bug)", e.path)
		}
		paths[e.path] = true
		if lim.MaxEntries > 0 && len(b.entries)+1+extra > lim.MaxEntries {
			return &LimitError{"too_many_entries", fmt.Sprintf("the bundle would hold more than %d files (report.bundle_max_entries in collector.yml): ask for one indicator, or one OPD", lim.MaxEntries)}
		}
		total += e.size
		if lim.MaxBytes > 0 && total > lim.MaxBytes {
			return &LimitError{"too_large", fmt.Sprintf("the bundle would be larger than %d bytes (report.bundle_max_bytes in collector.yml): ask for one indicator, or one OPD", lim.MaxBytes)}
		}
		b.entries = append(b.entries, e)
		return nil
	}
	// Every product's documents are listed first, and the review records
	// read, so that a bundle over report.bundle_max_entries, or over
	// bundle_max_bytes by its evidence files alone, is refused before
	// anything is rendered (a PDF takes a render slot for seconds).
	docs := map[string][]Doc{}
	planned := 0
	var recs *records
	var evidenceBytes int64
	for _, bi := range b.m {
		if in.Records != nil && slices.Contains(bi.Records, "reviews") {
			if recs == nil {
				if recs, err = loadRecords(ctx, in, per, s); err != nil {
					return nil, err
				}
			}
			planned += len(recs.reviews) + 1 + len(recs.files) // minutes, tindak-lanjut.csv, evidence
			for _, f := range recs.files {
				evidenceBytes += f.ev.Size
			}
		}
		for _, pr := range bi.Products {
			ds, ok := docs[pr.Product]
			if !ok {
				if ds, err = in.Products.Documents(ctx, pr.Product, s, p.Period); err != nil {
					return nil, err
				}
				docs[pr.Product] = ds
			}
			for _, f := range pr.Formats {
				if fc, ok := in.Products.(FormatChecker); !ok || fc.Unavailable(pr.Product, f) == nil {
					planned += len(ds)
				}
			}
		}
	}
	if lim.MaxEntries > 0 && planned+extra > lim.MaxEntries {
		return nil, &LimitError{"too_many_entries", fmt.Sprintf("the bundle would hold more than %d files (report.bundle_max_entries in collector.yml): ask for one indicator, or one OPD", lim.MaxEntries)}
	}
	if lim.MaxBytes > 0 && evidenceBytes > lim.MaxBytes {
		return nil, &LimitError{"too_large", fmt.Sprintf("the bundle would be larger than %d bytes (report.bundle_max_bytes in collector.yml): ask for one indicator, or one OPD", lim.MaxBytes)}
	}
	// Documents are rendered once and put in every folder that lists them.
	type rendered struct {
		body []byte
		doc  string
		err  error
	}
	type docFormat struct {
		d Doc
		f string
	}
	cache := map[docFormat]rendered{} // by the document, not its file name
	for _, bi := range b.m {
		n := bi.Indicator.Number
		dir := folder(bi.Indicator)
		for _, pr := range bi.Products {
			if len(docs[pr.Product]) == 0 {
				b.missing = append(b.missing, Missing{n, pr.Product, t(p.Lang, "nodocs")})
			}
			for _, d := range docs[pr.Product] {
				for _, f := range pr.Formats {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					k := docFormat{d, f}
					r, ok := cache[k]
					if !ok {
						r.body, r.doc, r.err = in.Products.Render(ctx, d, f, s)
						cache[k] = r
					}
					what := docTitle(p.Lang, d, in.OPDName)
					if errors.Is(r.err, ErrUnavailable) {
						b.missing = append(b.missing, Missing{n, what + " (" + f + ")", r.err.Error()})
						continue
					}
					if r.err != nil {
						return nil, r.err
					}
					e := entry{path: dir + "/produk/" + safeName(d.name()+"."+f), body: r.body, size: int64(len(r.body)),
						docNumber: r.doc, indicator: n, kind: "product", title: what + " (" + strings.ToUpper(f) + ")"}
					if err := add(e); err != nil {
						return nil, err
					}
				}
			}
		}
		for _, kind := range bi.Records {
			var es []entry
			var err error
			switch kind {
			case "reviews":
				if in.Records == nil {
					b.missing = append(b.missing, Missing{n, "reviews", "no review records in this build"})
					continue
				}
				if recs == nil {
					if recs, err = loadRecords(ctx, in, per, s); err != nil {
						return nil, err
					}
				}
				es = recs.entries(b, dir, n)
			case "assets":
				es, err = b.assets(ctx, dir, n)
			case "methods":
				es, err = b.methods(ctx, dir, n)
			}
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				if err := add(e); err != nil {
					return nil, err
				}
			}
		}
	}
	// The index names each file's path, title, document number and
	// size, all known now; a file whose size changes by Write fails it.
	idx := &Manifest{Period: p.Period, Generator: in.Generator}
	for _, e := range b.entries {
		idx.Files = append(idx.Files, FileInfo{Path: e.path, Size: e.size, DocumentNumber: e.docNumber, Indicator: e.indicator, Kind: e.kind, Title: e.title})
	}
	b.index = b.indexHTML(idx)
	if in.PDF != nil {
		if b.indexPDF, err = in.PDF(ctx, b.index); err != nil {
			return nil, fmt.Errorf("render the index as PDF: %w", err)
		}
	}
	return b, nil
}

// folder is an indicator's folder: indikator-17-layanan-jaringan-intra.
func folder(in report.Indicator) string {
	return "indikator-" + strconv.Itoa(in.Number) + "-" + strings.ToLower(safeName(in.Name))
}

// Write streams the bundle as a ZIP to w: the planned files in their
// order, then index.html (and index.pdf), then manifest.json. Evidence
// files are read from disk as they are written; a file that changed
// since Plan (its size) fails the bundle.
func (b *Bundle) Write(ctx context.Context, w io.Writer) (*Manifest, error) {
	zw := zip.NewWriter(w)
	man := &Manifest{Period: b.p.Period, Scope: b.scope, Lang: b.p.Lang, GeneratedAt: b.in.Now.UTC(), Generator: b.in.Generator,
		Files: []FileInfo{}, Missing: b.missing}
	for _, bi := range b.m {
		man.Indicators = append(man.Indicators, bi.Indicator.Number)
	}
	put := func(e entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !safePath(e.path) {
			return fmt.Errorf("bundle entry %q: not a safe path (a bug)", e.path)
		}
		hw, err := zw.CreateHeader(&zip.FileHeader{Name: e.path, Method: zip.Deflate, Modified: b.in.Now.UTC()})
		if err != nil {
			return fmt.Errorf("write %s to the bundle: %w", e.path, err)
		}
		h := sha256.New()
		var n int64
		if e.body != nil {
			h.Write(e.body)
			var k int
			k, err = hw.Write(e.body)
			n = int64(k)
		} else {
			var f *os.File
			if f, err = os.Open(e.file); err != nil {
				return fmt.Errorf("read evidence file %s: %w", e.file, err)
			}
			n, err = io.Copy(io.MultiWriter(hw, h), ctxReader{ctx, io.LimitReader(f, e.size+1)})
			f.Close()
			if err == nil && n != e.size {
				err = fmt.Errorf("evidence file %s is %d bytes, %d on record: restore it from a backup", e.file, n, e.size)
			}
		}
		if err != nil {
			return fmt.Errorf("write %s to the bundle: %w", e.path, err)
		}
		man.Files = append(man.Files, FileInfo{Path: e.path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, DocumentNumber: e.docNumber,
			Indicator: e.indicator, Kind: e.kind, Title: e.title})
		return nil
	}
	for _, e := range b.entries {
		if err := put(e); err != nil {
			return nil, err
		}
	}
	if err := put(entry{path: "index.html", body: b.index, kind: "index", title: t(b.p.Lang, "index")}); err != nil {
		return nil, err
	}
	if b.indexPDF != nil {
		if err := put(entry{path: "index.pdf", body: b.indexPDF, kind: "index", title: t(b.p.Lang, "index") + " (PDF)"}); err != nil {
			return nil, err
		}
	}
	js, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest.json: %w", err)
	}
	hw, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: b.in.Now.UTC()})
	if err == nil {
		_, err = hw.Write(append(js, '\n'))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("write manifest.json to the bundle: %w", err)
	}
	return man, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// safeName makes a file name element of s: ASCII letters, digits, '.',
// '_' and '-' only (anything else a '-', runs of them one), no leading
// dots or dashes (so never "." or ".."), at most 80 bytes; "file" when
// nothing is left.
func safeName(s string) string {
	var sb strings.Builder
	dash := false
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok || c == '-' {
			if !dash {
				sb.WriteByte('-')
			}
			dash = true
			continue
		}
		dash = false
		sb.WriteRune(c)
	}
	out := strings.TrimLeft(sb.String(), ".-")
	out = strings.TrimRight(out, "-")
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	if len(out) > 80 {
		ext := filepath.Ext(out)
		if len(ext) > 10 {
			ext = ""
		}
		out = strings.TrimRight(out[:80-len(ext)], ".-") + ext
	}
	if out == "" {
		return "file"
	}
	return out
}

// safePath reports whether p is a relative, slash-separated ASCII path
// of safeName elements: what every entry name must be.
func safePath(p string) bool {
	if p == "" || !filepath.IsLocal(p) || strings.ContainsAny(p, `\:`) {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." || el != safeName(el) {
			return false
		}
	}
	return true
}

// tableCSV renders a report table as CSV.
func tableCSV(tb report.Table) ([]byte, error) {
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, tb); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FileName is the bundle's file name: pantau-bukti-spbe-2026[-indikator-17][-dinkes].zip.
func FileName(p Params, s Scope) string {
	n := "pantau-bukti-spbe-" + safeName(p.Period)
	if p.Indicator != 0 {
		n += "-indikator-" + strconv.Itoa(p.Indicator)
	}
	if s.OPD != "" {
		n += "-" + safeName(s.OPD)
	}
	return n + ".zip"
}
