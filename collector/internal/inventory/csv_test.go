package inventory

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func importFile(t *testing.T, path string) *Inventory {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := ImportCSV(path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestImportCSV(t *testing.T) {
	inv := importFile(t, "testdata/inventory.csv")
	if inv.File != "testdata/inventory.csv" || len(inv.Sites) != 5 || len(inv.Links) != 5 || inv.Devices != nil {
		t.Fatalf("imported %s: %d sites, %d links, %d devices", inv.File, len(inv.Sites), len(inv.Links), len(inv.Devices))
	}
	dc := inv.Site("dc-pemda")
	if dc.Name != "Data Center Pemkab Jayapura" || dc.Kind != KindDatacenter || dc.OPD != "diskominfo" || *dc.Lat != -2.5693 ||
		*dc.Lon != 140.5131 || dc.TimeZone != "WIT" || dc.Location.String() != "Asia/Jayapura" {
		t.Errorf("dc-pemda = %+v", dc)
	}
	if s := inv.Site("setda"); s.OPD != "setda" || s.SLATarget != 99 || s.Parent != "dc-pemda" || len(inv.LinksOfSite("setda")) != 0 {
		t.Errorf("setda (a row without a link) = %+v", s)
	}
	l := inv.Link("dc-telkom-1")
	want := Contract{Target: 99.5, MinOutage: dur(5 * time.Minute), Exclude: []string{ExcludePower, ExcludeMaintenance},
		MonthlyFee: 15000000, Restitution: RestitutionProportional, Start: Date{2026, 1, 1}, End: Date{2026, 12, 31}}
	if l.Contract == nil || !sameContract(*l.Contract, want) || l.SLATarget != 99.5 {
		t.Errorf("dc-telkom-1 contract %+v, sla %v", l.Contract, l.SLATarget)
	}
	if l.Circuit != "4703210987" || l.ISP != "Telkom Indonesia" || l.Bandwidth != 200e6 || l.ICMP.Agent != "agent-dc" || l.SNMP.Interface != "sfp-sfpplus1" {
		t.Errorf("dc-telkom-1 = %+v", l)
	}
	if l := inv.Link("dc-lintasarta"); l.Name != "Backup Lintasarta, jalur 2" || l.Type != TypeRadio || *l.Thresholds.LossRatio != 0.03 ||
		l.Thresholds.RTT.Std() != 80*time.Millisecond || l.Contract != nil || l.SLATarget != 99 {
		t.Errorf("dc-lintasarta = %+v", l)
	}
	if l := inv.Link("diskominfo-fo"); l.SLATarget != 99.2 || *l.Thresholds.LossRatio != 0.02 {
		t.Errorf("diskominfo-fo: the site's target and the type's thresholds: %+v", l)
	}
	// a district site's link: the district default RTT 750 ms is
	// stricter than the VSAT type's 1500 ms
	if l := inv.Link("distrik-kemtuk-vsat"); l.Thresholds.RTT.Std() != 750*time.Millisecond || l.SLATarget != 98 ||
		l.Contract.Restitution != RestitutionExcess || len(l.Contract.Exclude) != 3 || l.Contract.MonthlyFee != 9500000 {
		t.Errorf("distrik-kemtuk-vsat = %+v %+v", l, l.Contract)
	}
	if got := inv.MatchICMP("", "agent-x", "10.30.1.1"); got == nil || got.ID != "distrik-kemtuk-vsat" {
		t.Errorf("MatchICMP after import = %v", got)
	}

	// Imported, written and parsed again: the same inventory.
	back, out := roundTrip(t, inv)
	if !bytes.HasPrefix(out, []byte("# Pantau inventory (inventory.yml), generated from test.\n")) {
		t.Errorf("header:\n%s", out)
	}
	if back.MatchSNMP("", "core-dc", "sfp-sfpplus2") == nil {
		t.Error("the parsed copy has no index")
	}

	// The same sheet as Excel writes it in the Indonesian locale: BOM,
	// ';', CRLF, decimal commas, "Rp 15.000.000,-", percentages, mixed
	// case, a blank row and site cells left empty on a site's second row.
	id := importFile(t, "testdata/inventory-id.csv")
	if !sameInventory(inv, id) {
		t.Errorf("the ';' sheet imports differently:\n got: %+v\nwant: %+v", id, inv)
		for i := range inv.Links {
			if !sameContractPtr(inv.Links[i].Contract, id.Links[i].Contract) {
				t.Errorf("link %d contract %+v, want %+v", i, id.Links[i].Contract, inv.Links[i].Contract)
			}
		}
	}
}

func sameContract(a, b Contract) bool { return reflect.DeepEqual(a, b) }

func sameContractPtr(a, b *Contract) bool { return reflect.DeepEqual(a, b) }

func TestImportCSVMinimal(t *testing.T) {
	inv, err := ImportCSV("sites.csv", strings.NewReader("Site_ID , site_name,KIND\ndc,DC,datacenter\ndinkes,Dinas Kesehatan,opd\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Sites) != 2 || inv.Links != nil || inv.Site("dinkes").OPD != "dinkes" {
		t.Fatalf("imported %+v", inv)
	}
	roundTrip(t, inv)

	inv, err = ImportCSV("header-only.csv", strings.NewReader("site_id;site_name;kind\r\n"))
	if err != nil || inv.Sites != nil {
		t.Fatalf("header only: %+v, %v", inv, err)
	}
	inv, err = ImportCSV("exclude-none.csv", strings.NewReader("site_id,site_name,kind,link_id,contract_target,exclude\ndc,DC,datacenter,dc-fo,99,None\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ex := inv.Link("dc-fo").Contract.Exclude; ex == nil || len(ex) != 0 {
		t.Errorf("exclude none = %#v", ex)
	}
	roundTrip(t, inv)
}

const csvHeader = "site_id,site_name,kind,parent,lat,link_id,type,bandwidth,icmp_target,icmp_agent,loss_threshold,rtt_threshold,contract_target,min_outage,exclude,monthly_fee,contract_start,contract_end\n"

// TestImportCSVErrors holds the exact message for each bad sheet.
func TestImportCSVErrors(t *testing.T) {
	for name, c := range map[string]struct {
		csv  string
		want []string
	}{
		"empty": {"", []string{"bad.csv: empty file: the header row is required"}},
		"unknown-column": {"site_id,site_name,kind,bandwith\n", []string{
			"bad.csv:1:24: bandwith: unknown column; the columns are site_id, site_name, kind, opd, district, parent, lat, lon, timezone, sla_target, " +
				"link_id, link_name, type, isp, circuit, bandwidth, icmp_target, icmp_agent, snmp_device, snmp_interface, loss_threshold, rtt_threshold, " +
				"signal_threshold, contract_target, min_outage, exclude, monthly_fee, restitution, contract_start, contract_end, opd_name"}},
		"missing-columns": {"site_id;kind;icmp_target;kind\n", []string{
			"bad.csv:1:1: site_name: required column missing from the header row",
			"bad.csv:1:14: icmp_target: a link column needs a link_id column",
			"bad.csv:1:26: kind: column given twice",
		}},
		"bad-cells": {csvHeader +
			"dc,DC,datacenter,,utara,dc-fo,fibre,20 Mbit,10.0.0.1,,x,5 menit,99.5,5 menit,,Rp 1.500.00,31/12/2026,2026-12-31\n", []string{
			`bad.csv:2:19: lat: not a number: "utara"`,
			`bad.csv:2:37: bandwidth: invalid bandwidth "20 Mbit": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
			`bad.csv:2:55: loss_threshold: not a number: "x"`,
			`bad.csv:2:57: rtt_threshold: invalid duration "5 menit": use a number with a unit, such as 30s, 10m, 7d or 400d`,
			`bad.csv:2:70: min_outage: invalid duration "5 menit": use a number with a unit, such as 30s, 10m, 7d or 400d`,
			`bad.csv:2:79: monthly_fee: not a whole number of rupiah: "Rp 1.500.00"`,
			`bad.csv:2:91: contract_start: invalid date "31/12/2026": use YYYY-MM-DD, such as 2026-12-31`,
		}},
		"sites-disagree": {csvHeader +
			"dc,Data Center,datacenter,,-2.5,dc-fo,,,10.0.0.1,,,,,,,,,\n" +
			"dc,Data Centre,,,-2.50,dc-fo-2,,,10.0.0.2,,,,,,,,,\n" +
			"dc,,opd,,-2.6,,,,,,,,,,,,,\n", []string{
			`bad.csv:3:4: site_name: "Data Centre" disagrees with "Data Center" on line 2 for site "dc"`,
			`bad.csv:4:5: kind: "opd" disagrees with "datacenter" on line 2 for site "dc"`,
			`bad.csv:4:10: lat: "-2.6" disagrees with "-2.5" on line 2 for site "dc"`,
		}},
		"rows": {csvHeader +
			",DC,datacenter,,,dc-fo,,,,,,,,,,,,\n" +
			"dc,DC,datacenter,,,,,,10.0.0.1,,,,,,,,,\n" +
			"dc,DC,datacenter,,,dc-fo,,,,,,,,,,,,,extra\n" +
			"dc,DC,datacenter,,,dc-fo-2,\xff,,,,,,,,,,,\n", []string{
			`bad.csv:2:1: site_id: required: every row names its site`,
			`bad.csv:3:20: link_id: required when the row's link columns are filled (icmp_target is "10.0.0.1"); a row without link_id only declares its site`,
			`bad.csv:4:38: cell "extra" is in a column without a name in the header`,
			`bad.csv:5:28: not valid UTF-8; save the sheet as "CSV UTF-8"`,
		}},
		"validation": {csvHeader +
			"dc,DC,datacentre,,,dc-fo,fiber,,10.0.0.1,,,,,,,,,\n" +
			"dinkes,Dinkes,opd,pusat,,dc-fo,,,10.0.0.1,,,,,,,,,\n" +
			"dinkes,Dinkes,opd,,,dinkes-fo,,,,a1,1.5,,,,,,,\n" +
			"kec,,district,,95,kec-vsat,vsat,,,,,,,,power;weather,-1,2026-06-01,2026-05-31\n", []string{
			`bad.csv:2:7: kind: must be one of "opd", "district", "campus", "datacenter" (got "datacentre")`,
			`bad.csv:2:26: type: must be one of "fibre", "radio", "vsat", "leo" (got "fiber")`,
			`bad.csv:3:19: parent: unknown site "pusat"`,
			`bad.csv:3:26: link_id: duplicate link id "dc-fo" (first on line 2)`,
			`bad.csv:3:34: icmp_target: target "10.0.0.1" is already matched by link "dc-fo"`,
			`bad.csv:4:34: icmp_agent: an agent filter needs an ICMP target`,
			`bad.csv:4:37: loss_threshold: must be a ratio between 0 and 1 (got 1.5)`,
			`bad.csv:5:5: site_name: required`,
			`bad.csv:5:16: lat: must be between -90 and 90 (got 95)`,
			`bad.csv:5:38: contract_target: required: the monthly availability commitment in percent above 0, such as 99.5`,
			`bad.csv:5:40: exclude: must be one of "power", "maintenance", "parent" (got "weather")`,
			`bad.csv:5:54: monthly_fee: must not be negative (got -1)`,
			`bad.csv:5:68: contract_end: the contract ends (2026-05-31) before it starts (2026-06-01)`,
		}},
		"bad-and-invalid": {"site_id;site_name;kind;link_id;contract_target;monthly_fee\n" +
			"dc;DC;datacenter;dc-fo;sembilan;1000000\n", []string{
			`bad.csv:2:24: contract_target: not a number: "sembilan"`,
		}},
		"short-row": {"site_name,kind,site_id\nDC,datacenter\n", []string{
			`bad.csv:2:1: site_id: required: every row names its site`,
		}},
		"syntax": {"site_id,site_name,kind\ndc,\"DC\"x,datacenter\n", []string{
			`bad.csv:2:7: CSV syntax: extraneous or missing " in quoted-field`,
		}},
		"syntax-after-bad-cell": {"site_id,site_name,kind,lat\ndc,DC,datacenter,x\ndinkes,Dinkes,opd,\"1\n", []string{
			`bad.csv:2:18: lat: not a number: "x"`,
			`bad.csv:3:22: CSV syntax: extraneous or missing " in quoted-field`,
		}},
	} {
		t.Run(name, func(t *testing.T) {
			inv, err := ImportCSV("bad.csv", strings.NewReader(c.csv))
			if err == nil {
				t.Fatalf("no error: %+v", inv)
			}
			if got, want := err.Error(), strings.Join(c.want, "\n"); got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestImportCSVReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ImportCSV("broken.csv", iotest.ErrReader(boom))
	if !errors.Is(err, boom) || err.Error() != "read broken.csv: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRupiah(t *testing.T) {
	for in, want := range map[string]int64{
		"15000000": 15000000, "15.000.000": 15000000, "15,000,000": 15000000, "Rp 15.000.000": 15000000, "Rp15.000.000,-": 15000000,
		"rp. 9.500.000,00": 9500000, "15 000 000": 15000000, "0": 0, "-1": -1, "1.500": 1500,
	} {
		if got, err := parseRupiah(in); err != nil || got != want {
			t.Errorf("parseRupiah(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lima juta", "15.000,000", "1.50", "15000000.5", "Rp"} {
		if got, err := parseRupiah(bad); err == nil {
			t.Errorf("parseRupiah(%q) = %d, want an error", bad, got)
		}
	}
}
