package webui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

const currentInv = `defaults:
  timezone: WITA
  link_types:
    fibre: {rtt: 200ms}
sites:
  - id: dinkes
    name: Dinas Kesehatan
    kind: opd
    timezone: WITA
    lat: -8.5
    service_hours: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "16:00"}
  - {id: dishub, name: Dinas Perhubungan, kind: opd}
links:
  - id: dinkes-wan
    site: dinkes
    isp: Telkom
    bandwidth: 50M
    icmp: {target: 10.0.0.1, agent: agent-dinkes}
    sla_target: 99.9
  - {id: dishub-wan, site: dishub, icmp: {target: 10.0.0.2}}
devices:
  - {id: sw-dinkes, site: dinkes}
`

// TestPlanImport: the CSV's sites and links are added or replace those
// with the same id; keys the file has no column for stay; everything
// else stays.
func TestPlanImport(t *testing.T) {
	if _, err := inventory.Parse("current", []byte(currentInv)); err != nil {
		t.Fatal(err)
	}
	csv := "site_id,site_name,kind,link_id,isp,bandwidth,icmp_target\n" +
		"dinkes,Dinas Kesehatan,opd,dinkes-wan,Lintasarta,100M,10.0.0.1\n" +
		"bappeda,Bappeda,opd,bappeda-wan,Telkom,20M,10.0.0.3\n"
	plan, err := planImport([]byte(currentInv), "daftar.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Problems) > 0 {
		t.Fatalf("problems: %q\n%s", plan.Problems, plan.Merged)
	}
	inv, err := inventory.Parse("merged", plan.Merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Sites) != 3 || len(inv.Links) != 3 || len(inv.Devices) != 1 {
		t.Fatalf("merged: %d sites, %d links, %d devices\n%s", len(inv.Sites), len(inv.Links), len(inv.Devices), plan.Merged)
	}
	d := inv.Site("dinkes")
	if d.TimeZone != "WITA" || d.Lat == nil || *d.Lat != -8.5 || d.ServiceHours == nil {
		t.Errorf("dinkes lost the values the CSV has no column for: %+v\n%s", d, plan.Merged)
	}
	if b := inv.Site("bappeda"); b.TimeZone != "WITA" {
		t.Errorf("a new site without a timezone cell: %q, want the inventory's default WITA", b.TimeZone)
	}
	l := inv.Link("dinkes-wan")
	if l.ISP != "Lintasarta" || l.Bandwidth.String() != "100Mbps" || l.ICMP.Agent != "agent-dinkes" || l.SLATarget != 99.9 {
		t.Errorf("dinkes-wan: %+v", l)
	}
	if nl := inv.Link("bappeda-wan"); nl == nil || nl.Thresholds.RTT == nil || nl.Thresholds.RTT.String() != "200ms" {
		t.Errorf("a new link does not inherit the inventory's defaults: %+v\n%s", nl, plan.Merged)
	}
	want := []planPart{
		{Section: "sites", Added: []string{"bappeda"}, Unchanged: 1, NAdded: 1},
		{Section: "links", Added: []string{"bappeda-wan"}, Changed: []changedEntry{{ID: "dinkes-wan", Keys: []string{"bandwidth", "isp"}}}, NAdded: 1, NChanged: 1},
		{Section: "opds"},
	}
	if got, w := partsText(plan.Parts), partsText(want); got != w {
		t.Errorf("parts:\n%s\nwant\n%s", got, w)
	}
	if plan.Changes != 3 {
		t.Errorf("changes %d", plan.Changes)
	}
}

func partsText(ps []planPart) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Section + " +" + strings.Join(p.Added, ",") + " ~")
		for _, c := range p.Changed {
			b.WriteString(c.ID + "(" + strings.Join(c.Keys, ",") + ")")
		}
		b.WriteString(" =" + string(rune('0'+p.Unchanged)) + "\n")
	}
	return b.String()
}

// TestPlanImportProblems: the CSV's problems name the file, row and
// column, and nothing is merged.
func TestPlanImportProblems(t *testing.T) {
	csv := "site_id,bandwidth,site_name,kind,link_id\n" +
		"dinkes,100M,Dinas Kesehatan,opd,dinkes-wan\n" +
		"bpd,banyak,Bappeda,opd,bappeda-wan\n"
	plan, err := planImport([]byte(currentInv), "daftar.csv", []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Problems) != 1 || !strings.HasPrefix(plan.Problems[0], "daftar.csv:3:5: bandwidth: ") || plan.Merged != nil {
		t.Fatalf("problems %q", plan.Problems)
	}
	// A conflict with the inventory in force shows in the merged one.
	csv = "site_id,site_name,kind,link_id,icmp_target\nbappeda,Bappeda,opd,bappeda-wan,10.0.0.2\n"
	plan, err = planImport([]byte(currentInv), "daftar.csv", []byte(csv))
	if err != nil || len(plan.Problems) == 0 || !strings.HasPrefix(plan.Problems[0], mergedName+":") || !strings.Contains(plan.Problems[0], "links[2] (bappeda-wan)") {
		t.Fatalf("a duplicate ICMP target: %v %q", err, plan.Problems)
	}
}

// TestAddLink adds exactly one link.
func TestAddLink(t *testing.T) {
	out, err := addLink([]byte(currentInv), [][2]string{{"id", "dishub-2"}, {"site", "dishub"}, {"name", ""}, {"icmp.target", "10.9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(inv.Links) != 3 || inv.Link("dishub-2").ICMP.Target != "10.9.9.9" || inv.Site("dinkes").ServiceHours == nil {
		t.Fatalf("%s", out)
	}
}

func TestSuggestID(t *testing.T) {
	for in, want := range map[[3]string]string{
		{"dinkes", "10.0.0.1", ""}:         "dinkes-10.0.0.1",
		{"Dinkes", "core-sw", "Gi0/1"}:     "dinkes-core-sw-gi0-1",
		{"", "::1", ""}:                    "1",
		{"x", strings.Repeat("a", 80), ""}: "x-" + strings.Repeat("a", 62),
	} {
		if got := suggestID(in[0], in[1], in[2]); got != want {
			t.Errorf("suggestID%q = %q, want %q", in, got, want)
		}
	}
}

// FuzzPlanImport: any upload gives a plan or problems, never a panic or
// an internal error, and a plan without problems is a valid inventory.
func FuzzPlanImport(f *testing.F) {
	f.Add([]byte("site_id,site_name,kind,link_id,isp,bandwidth,icmp_target\ndinkes,D,opd,dinkes-wan,X,100M,10.0.0.9\n"))
	f.Add([]byte("\xef\xbb\xbfsite_id;site_name;kind;timezone\nx;X;district;wit\n"))
	f.Add([]byte("site_id,site_name,kind,opd,opd_name\nx,X,opd,,Dinas X\n"))
	f.Add([]byte("site_id,site_name,kind,link_id,contract_target,exclude\ndinkes,D,opd,dinkes-wan,99,none\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := planImport([]byte(currentInv), "f.csv", data)
		if err != nil {
			t.Fatalf("internal error: %v", err)
		}
		if len(plan.Problems) == 0 {
			if _, err := inventory.Parse("merged", plan.Merged); err != nil {
				t.Fatalf("a plan without problems does not parse: %v", err)
			}
		}
	})
}

// TestImportStore: a preview is its user's, for importTTL, one per user,
// and the store keeps at most maxPendingImports.
func TestImportStore(t *testing.T) {
	s := &importStore{m: map[string]*pendingImport{}}
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	a := s.put(&pendingImport{user: "user:adi", expires: now.Add(importTTL)}, now)
	if s.get(a, "user:adi", now) == nil || s.get(a, "user:ana", now) != nil || s.get(a, "user:adi", now.Add(importTTL+time.Second)) != nil {
		t.Fatal("a preview is not its user's for importTTL")
	}
	b := s.put(&pendingImport{user: "user:adi", expires: now.Add(importTTL)}, now)
	if s.get(a, "user:adi", now) != nil || s.get(b, "user:adi", now) == nil {
		t.Fatal("a user's new preview does not replace the old one")
	}
	for i := range 2 * maxPendingImports {
		s.put(&pendingImport{user: fmt.Sprintf("user:u%d", i), expires: now.Add(time.Duration(i) * time.Second)}, now)
	}
	if len(s.m) != maxPendingImports {
		t.Fatalf("%d previews kept", len(s.m))
	}
	if len(a) != 32 || a == b {
		t.Fatalf("ids %q %q", a, b)
	}
}
