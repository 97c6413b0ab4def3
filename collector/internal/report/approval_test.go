package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/docnum"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/golden"
)

// testSignatories are collector.yml's report.approval in the tests.
var testSignatories = []Signatory{
	{Role: "prepared", Title: "Pranata Komputer Ahli Pertama", Name: "Yohanes Wenda", NIP: "199001012015031001"},
	{Role: "checked", Title: "Kepala Bidang Infrastruktur TIK", Name: "Maria Kambu"},
	{Role: "approved", Title: "Kepala Dinas Kominfo", Name: "Drs. Petrus Yoku, M.Si."},
}

// approvedFixture is the fixture report with its approval sheet, issued
// on 3 November 2026, 08:00 WIT, from a fresh state.db.
func approvedFixture(t *testing.T, lang string, db *statedb.DB) *Report {
	t.Helper()
	if db == nil {
		var err error
		if db, err = statedb.Open(t.Context(), t.TempDir()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	p, err := docnum.Parse("{seq:3}/LAP-INFRA/{opd}/{month_roman}/{year}")
	if err != nil {
		t.Fatal(err)
	}
	r := fixtureReport(lang)
	if err := Approve(t.Context(), r, ApprovalSetup{Pattern: p, Signatories: testSignatories, Zone: fixWIT,
		Now: time.Date(2026, 11, 3, 8, 0, 0, 0, fixWIT)}, db); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestApprovalHash recomputes the data hash independently: the CSV of
// each table as Render writes it for format=csv&table=NAME, in the
// documented order, through crypto/sha256.
func TestApprovalHash(t *testing.T) {
	r := approvedFixture(t, LangID, nil)
	h := sha256.New()
	// The order of docs/spbe-report.md, written out.
	for _, name := range []string{"summary", "coverage", "sites", "links", "services", "incidents", "incident_pareto", "incident_mttr", "contracts", "capacity", "reviews", "followups", "changes", "assets", "expiries", "evidence", "methods"} {
		var b bytes.Buffer
		if err := Render(&b, r, "csv", name); err != nil {
			t.Fatal(err)
		}
		h.Write(b.Bytes())
	}
	want := hex.EncodeToString(h.Sum(nil))
	if r.Approval.DataSHA256 != want {
		t.Errorf("data_sha256 = %s, recomputed %s", r.Approval.DataSHA256, want)
	}
	// Any change in any figure changes it.
	r2 := fixtureReport(LangID)
	r2.Links[0].Outages++
	if h2, _ := DataHash(r2); h2 == want {
		t.Error("changing one outage count left the hash as it was")
	}
}

// TestApprovalNumber: the pattern's number, the same one when the same
// document is rendered again, the next for another version.
func TestApprovalNumber(t *testing.T) {
	db, err := statedb.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := approvedFixture(t, LangID, db)
	// First number of 2026, a whole-Pemda report, issued in November (XI).
	if got, want := r.Approval.DocumentNumber, "001/LAP-INFRA/PEMDA/XI/2026"; got != want {
		t.Errorf("number %s, want %s", got, want)
	}
	if r.Approval.IssuedOn != "2026-11-03" || r.Approval.Version != 1 || r.Approval.Product != "monthly" {
		t.Errorf("approval %+v", r.Approval)
	}
	if again := approvedFixture(t, LangEN, db); again.Approval.DocumentNumber != r.Approval.DocumentNumber {
		t.Errorf("the same document rendered again (in English) got %s, want %s", again.Approval.DocumentNumber, r.Approval.DocumentNumber)
	}
	r2 := fixtureReport(LangID)
	p, _ := docnum.Parse(docnum.Default)
	if err := Approve(t.Context(), r2, ApprovalSetup{Pattern: p, Version: 2, Zone: fixWIT, Now: time.Date(2026, 11, 20, 8, 0, 0, 0, fixWIT)}, db); err != nil {
		t.Fatal(err)
	}
	if got, want := r2.Approval.DocumentNumber, "2/LAP-INFRA/PEMDA/XI/2026"; got != want {
		t.Errorf("version 2: %s, want %s", got, want)
	}
	// Without configured names the three places to sign stay.
	if n := len(r2.Approval.Signatories); n != 3 || r2.Approval.Signatories[2].Role != "approved" {
		t.Errorf("signatories %+v", r2.Approval.Signatories)
	}
	// An OPD's own signatories (the hook for the inventory's OPDs).
	r3 := fixtureReport(LangID)
	r3.Scope = Scope{Kind: "opd", ID: "DISKOMINFO", Name: "Dinas Kominfo"}
	forOPD := func(opd string) ([]Signatory, bool) {
		return []Signatory{{Role: "approved", Name: "Kepala " + opd}}, opd == "DISKOMINFO"
	}
	if err := Approve(t.Context(), r3, ApprovalSetup{Pattern: p, Signatories: testSignatories, ForOPD: forOPD, Zone: fixWIT, Now: time.Date(2026, 11, 20, 8, 0, 0, 0, fixWIT)}, db); err != nil {
		t.Fatal(err)
	}
	if got := r3.Approval.DocumentNumber; got != "3/LAP-INFRA/DISKOMINFO/XI/2026" {
		t.Errorf("OPD report: %s", got)
	}
	// The OPD gives approved_by; prepared_by and checked_by stay
	// collector.yml's.
	if s := r3.Approval.Signatories; s[2].Name != "Kepala DISKOMINFO" || s[0].Name != "Yohanes Wenda" || s[1].Name != "Maria Kambu" {
		t.Errorf("OPD signatories %+v, want the OPD's approver and the configured others", s)
	}
	// From the inventory's opds: entry.
	inv, err := inventory.Parse("inv.yml", []byte(`opds:
  - id: dinkes
    name: Dinas Kesehatan
    approval:
      approved_by: {name: dr. Maria Yoku, title: Kepala Dinas Kesehatan, nip: "197502022000032002"}
sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, icmp: {target: 127.0.0.2}}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := InventorySignatories(inv)
	if got, ok := f("dinkes"); !ok || len(got) != 1 || got[0] != (Signatory{Role: "approved", Name: "dr. Maria Yoku", Title: "Kepala Dinas Kesehatan", NIP: "197502022000032002"}) {
		t.Errorf("dinkes signatories %+v %v", got, ok)
	}
	if _, ok := f("setda"); ok {
		t.Error("an OPD without an entry has its own signatories")
	}
}

// TestApprovalOutputs: the sheet comes first in the HTML and the
// workbook, and the JSON carries it.
func TestApprovalOutputs(t *testing.T) {
	for _, lang := range []string{LangID, LangEN} {
		r := approvedFixture(t, lang, nil)
		a := r.Approval
		var h bytes.Buffer
		if err := WriteHTML(&h, r); err != nil {
			t.Fatal(err)
		}
		page := h.String()
		body := page[strings.Index(page, "<body>"):]
		sheet, cover := strings.Index(body, `<section class="approval"`), strings.Index(body, `<header class="cover">`)
		if sheet < 0 || cover < 0 || sheet > cover {
			t.Errorf("%s: approval sheet at %d, cover at %d: want the sheet first", lang, sheet, cover)
		}
		title, role := "Lembar Pengesahan", "Disetujui oleh"
		if lang == LangEN {
			title, role = "Approval Sheet", "Approved by"
		}
		for _, s := range []string{title, role, a.DocumentNumber, a.DataSHA256, "Drs. Petrus Yoku, M.Si.", "199001012015031001"} {
			if !strings.Contains(body[sheet:cover], s) {
				t.Errorf("%s: the HTML approval sheet lacks %q", lang, s)
			}
		}
		got, err := approvalHTML(a)
		if err != nil {
			t.Fatal(err)
		}
		want := golden.Want(t, filepath.Join("testdata", "render", "approval."+lang+".html"), []byte(got))
		if got != string(want) {
			t.Errorf("%s: approval sheet differs from its golden (go test -run TestApprovalOutputs -update)", lang)
		}

		f := openXLSX(t, r)
		if first := f.GetSheetName(0); first != title {
			t.Errorf("%s: first sheet %q, want %q", lang, first, title)
		}
		rows, err := f.GetRows(title)
		if err != nil {
			t.Fatal(err)
		}
		flat := ""
		for _, row := range rows {
			flat += strings.Join(row, "|") + "\n"
		}
		for _, s := range []string{a.DocumentNumber, a.DataSHA256, "Drs. Petrus Yoku, M.Si. (Kepala Dinas Kominfo)"} {
			if !strings.Contains(flat, s) {
				t.Errorf("%s: the approval worksheet lacks %q:\n%s", lang, s, flat)
			}
		}

		var j bytes.Buffer
		if err := Render(&j, r, "json", ""); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Approval struct {
				Number string `json:"document_number"`
				Hash   string `json:"data_sha256"`
				Signs  []struct {
					Role, Name string
				} `json:"signatories"`
			} `json:"approval"`
		}
		if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Approval.Number != a.DocumentNumber || doc.Approval.Hash != a.DataSHA256 || len(doc.Approval.Signs) != 3 || doc.Approval.Signs[0].Role != "prepared" {
			t.Errorf("%s: JSON approval %+v", lang, doc.Approval)
		}
	}
}
