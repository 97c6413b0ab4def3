package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/docnum"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Approval is the approval sheet (lembar pengesahan), the first page of
// every product: the document's number and version, what it covers, who
// prepared, checked and approved it, the generator and the hash of its
// data tables.
type Approval struct {
	DocumentNumber string `json:"document_number"`
	Version        int    `json:"version"`
	// Product is monthly, opd-sheet, review-pack or annual.
	Product string `json:"product"`
	Scope   string `json:"scope"`
	Period  string `json:"period"`
	// IssuedOn is the day the number was issued (Pemda zone, YYYY-MM-DD).
	IssuedOn    string      `json:"issued_on"`
	Signatories []Signatory `json:"signatories"`
	Generator   string      `json:"generator"`
	// DataSHA256 is HashMethod applied to the report (DataHash).
	DataSHA256 string `json:"data_sha256"`
	HashMethod string `json:"hash_method"`
	// Lang is the sheet's language (the report's).
	Lang string `json:"-"`
}

// Signatory is one of the three who sign the sheet.
type Signatory struct {
	// Role is prepared (disusun), checked (diperiksa) or approved
	// (disetujui).
	Role  string `json:"role"`
	Title string `json:"title"` // jabatan
	Name  string `json:"name"`
	NIP   string `json:"nip,omitempty"`
}

// Roles of the signatories, in order.
var Roles = []string{"prepared", "checked", "approved"}

// HashMethod says how DataSHA256 is computed; it is printed on the sheet
// and documented in docs/spbe-report.md.
const HashMethod = "SHA-256 over the concatenated CSV of every table in order (summary, coverage, sites, ...), each as GET /api/v1/report?format=csv&table=NAME returns it"

// DataHash is the SHA-256, in lowercase hex, of the report's data: the
// CSV of every table of Tables() in that order (the order of TableNames),
// each exactly as WriteCSV writes it (the default CSV locale) (a header row, RFC 4180 quoting, LF
// line ends, UTF-8) and as `format=csv&table=NAME` serves it, concatenated
// with nothing between. An evaluator recomputes it with
//
//	for t in summary coverage sites ...; do curl "…&format=csv&table=$t"; done | sha256sum
//
// The approval sheet is not a table and is not hashed.
func DataHash(r *Report) (string, error) {
	h := sha256.New()
	for _, t := range r.Tables() {
		if err := WriteCSV(h, t); err != nil {
			return "", fmt.Errorf("hash table %s: %w", t.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ApprovalSetup is what the approval sheet is made from: collector.yml's
// report.document_number and report.approval.
type ApprovalSetup struct {
	// Pattern is the document-number pattern (default docnum.Default).
	Pattern *docnum.Pattern
	// Signatories are prepared, checked and approved, in that order.
	Signatories []Signatory
	// ForOPD, when set, gives an OPD's own signatories (the inventory's
	// OPD entries, InventorySignatories), used for a report of that OPD
	// or one of its sites; each role it gives replaces that of
	// Signatories.
	ForOPD func(opd string) (s []Signatory, ok bool)
	// Product (default monthly) and Version (default 1) of the document.
	Product string
	Version int
	// Zone is the Pemda's: the day of issue is its date.
	Zone *time.Location
	Now  time.Time // default time.Now
}

// NumberIssuer issues document numbers (statedb.DB).
type NumberIssuer interface {
	DocumentNumber(ctx context.Context, key statedb.DocKey, issued time.Time, format func(seq int) string) (statedb.DocNumber, error)
}

// Approve computes the report's data hash and gets its document number
// (the same one every time the same document is rendered again), and
// sets r.Approval. Call it after Build, before rendering.
func Approve(ctx context.Context, r *Report, s ApprovalSetup, iss NumberIssuer) error {
	if s.Pattern == nil {
		p, err := docnum.Parse(docnum.Default)
		if err != nil {
			return err
		}
		s.Pattern = p
	}
	if s.Product == "" {
		s.Product = "monthly"
	}
	if s.Version <= 0 {
		s.Version = 1
	}
	zone := s.Zone
	if zone == nil {
		zone = time.UTC
	}
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.In(zone)
	hash, err := DataHash(r)
	if err != nil {
		return err
	}
	opd := scopeOPD(r)
	scope := r.Scope.Kind
	if r.Scope.ID != "" {
		scope += ":" + r.Scope.ID
	}
	key := statedb.DocKey{Product: s.Product, Scope: scope, Period: r.Period, Version: s.Version}
	n, err := iss.DocumentNumber(ctx, key, now, func(seq int) string {
		return s.Pattern.Format(docnum.Fields{Seq: seq, OPD: opd, Product: s.Product, Period: r.Period, Version: s.Version, Issued: now})
	})
	if err != nil {
		return err
	}
	signs := s.Signatories
	if s.ForOPD != nil && opd != "PEMDA" && !strings.Contains(opd, "+") {
		if o, ok := s.ForOPD(opd); ok {
			signs = append(slices.Clone(signs), o...) // later entries of a role win
		}
	}
	r.Approval = &Approval{
		DocumentNumber: n.Number, Version: s.Version, Product: s.Product, Scope: r.Scope.Name, Period: r.Period,
		IssuedOn: n.Issued.In(zone).Format("2006-01-02"), Signatories: completeSignatories(signs),
		Generator: r.Generator, DataSHA256: hash, HashMethod: HashMethod, Lang: r.Lang,
	}
	return nil
}

// InventorySignatories is ApprovalSetup.ForOPD from the inventory's
// opds: entries and their approval.
func InventorySignatories(inv *inventory.Inventory) func(opd string) ([]Signatory, bool) {
	return func(opd string) ([]Signatory, bool) {
		o := inv.OPDEntry(opd)
		if o == nil || o.Approval == nil {
			return nil, false
		}
		var out []Signatory
		for i, g := range []*inventory.Signatory{o.Approval.PreparedBy, o.Approval.CheckedBy, o.Approval.ApprovedBy} {
			if g != nil {
				out = append(out, Signatory{Role: Roles[i], Name: g.Name, Title: g.Title, NIP: g.NIP})
			}
		}
		return out, len(out) > 0
	}
}

// scopeOPD is the {opd} of the document number: the OPD of an OPD or
// site report, the OPDs joined by "+" for several, PEMDA for the whole.
func scopeOPD(r *Report) string {
	switch r.Scope.Kind {
	case "opd":
		return r.Scope.ID
	case "opds":
		return strings.ReplaceAll(r.Scope.ID, ",", "+")
	case "site":
		for _, s := range r.Sites {
			if s.Site == r.Scope.ID && s.OPD != "" {
				return s.OPD
			}
		}
	}
	return "PEMDA"
}

// completeSignatories gives the three roles in order, blank where none
// is configured (the sheet keeps the place to sign).
func completeSignatories(in []Signatory) []Signatory {
	out := make([]Signatory, len(Roles))
	for i, role := range Roles {
		out[i] = Signatory{Role: role}
		for _, s := range in {
			if s.Role == role {
				out[i] = s
			}
		}
	}
	return out
}

// approvalText holds the sheet's words: [id, en].
var approvalText = map[string][2]string{
	"sheet":     {"Lembar Pengesahan", "Approval Sheet"},
	"number":    {"Nomor dokumen", "Document number"},
	"version":   {"Versi", "Version"},
	"product":   {"Jenis dokumen", "Document"},
	"scope":     {"Cakupan", "Scope"},
	"period":    {"Periode", "Period"},
	"issued":    {"Tanggal", "Date"},
	"generator": {"Perangkat lunak", "Generator"},
	"hash":      {"SHA-256 data", "Data SHA-256"},
	"hash.d": {"SHA-256 atas gabungan CSV seluruh tabel laporan sesuai urutannya, masing-masing seperti yang diberikan GET /api/v1/report?format=csv&table=NAMA (lihat docs/spbe-report.md).",
		"SHA-256 over the concatenated CSV of every table of the report in order, each as GET /api/v1/report?format=csv&table=NAME returns it (see docs/spbe-report.md)."},
	"role.prepared":       {"Disusun oleh", "Prepared by"},
	"role.checked":        {"Diperiksa oleh", "Checked by"},
	"role.approved":       {"Disetujui oleh", "Approved by"},
	"sign":                {"Tanda tangan", "Signature"},
	"date":                {"Tanggal", "Date"},
	"nip":                 {"NIP", "NIP"},
	"product.monthly":     {"Laporan bulanan infrastruktur SPBE", "Monthly SPBE infrastructure report"},
	"product.opd-sheet":   {"Lembar OPD", "OPD sheet"},
	"product.review-pack": {"Paket reviu triwulanan", "Quarterly review pack"},
	"product.annual":      {"Laporan tahunan", "Annual report"},
}

// L gives a label of the sheet in its language (for the template).
func (a *Approval) L(key string) string {
	v, ok := approvalText[key]
	if !ok {
		return key
	}
	if a.Lang == LangEN {
		return v[1]
	}
	return v[0]
}

// ProductName is the product in words.
func (a *Approval) ProductName() string {
	if _, ok := approvalText["product."+a.Product]; ok {
		return a.L("product." + a.Product)
	}
	return a.Product
}

//go:embed approval.html.tmpl
var approvalTemplateText string

// ApprovalTemplate adds the "approval" template (approval.html.tmpl,
// over an *Approval) to t, for every product's HTML, and returns t:
//
//	{{with .Approval}}{{template "approval" .}}{{end}}
func ApprovalTemplate(t *template.Template) (*template.Template, error) {
	if _, err := t.New("approval.html.tmpl").Parse(approvalTemplateText); err != nil {
		return nil, fmt.Errorf("approval.html.tmpl: %w", err)
	}
	return t, nil
}

// PeriodText is the period as a reader writes it: "Oktober 2026",
// "Triwulan IV 2026", "1 Oktober 2026 – 15 Oktober 2026".
func (a *Approval) PeriodText() string { return fmtPeriod(a.Lang, a.Period) }

// IssuedText is the day of issue as a reader writes it: "7 Desember 2026".
func (a *Approval) IssuedText() string {
	t, err := time.Parse("2006-01-02", a.IssuedOn)
	if err != nil {
		return a.IssuedOn
	}
	return fmtDate(a.Lang, t)
}

// Table is the approval sheet as a table of two columns, for the
// workbook's first sheet.
func (a *Approval) Table() Table {
	t := Table{Name: "approval", Title: a.L("sheet")}
	if a.Lang == LangEN {
		t.Columns = []string{"item", "value"}
	} else {
		t.Columns = []string{"butir", "nilai"}
	}
	add := func(k string, v any) { t.Rows = append(t.Rows, []any{k, v}) }
	add(a.L("number"), a.DocumentNumber)
	add(a.L("version"), a.Version)
	add(a.L("product"), a.ProductName())
	add(a.L("scope"), a.Scope)
	add(a.L("period"), a.PeriodText())
	add(a.L("issued"), a.IssuedText())
	for _, s := range a.Signatories {
		v := s.Name
		if s.Title != "" {
			v += " (" + s.Title + ")"
		}
		if s.NIP != "" {
			v += ", " + a.L("nip") + " " + s.NIP
		}
		add(a.L("role."+s.Role), strings.TrimSpace(v))
	}
	add(a.L("generator"), a.Generator)
	add(a.L("hash"), a.DataSHA256)
	add("", a.L("hash.d"))
	return t
}

// withApproval puts the approval sheet before the tables, when the
// report has one.
func withApproval(r *Report, tables []Table) []Table {
	if r.Approval == nil {
		return tables
	}
	return append([]Table{r.Approval.Table()}, tables...)
}

// approvalHTML renders the sheet alone (tests and other products).
func approvalHTML(a *Approval) (string, error) {
	t, err := ApprovalTemplate(template.New("x"))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "approval", a); err != nil {
		return "", err
	}
	return b.String(), nil
}
