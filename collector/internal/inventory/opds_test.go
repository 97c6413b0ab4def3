package inventory

import (
	"strings"
	"testing"
)

func TestOPDsYAML(t *testing.T) {
	inv, err := Parse("inv.yml", []byte(`
opds:
  - {id: dinkes, name: Dinas Kesehatan}
  - {id: setda, name: Sekretariat Daerah}
sites:
  - {id: dinkes-kantor, name: Kantor Dinkes, kind: opd, opd: dinkes}
  - {id: bappeda, name: Badan Perencanaan, kind: opd}
  - {id: kec-a, name: Kecamatan A, kind: district, opd: setda}
`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"dinkes":  "Dinas Kesehatan",    // its entry
		"setda":   "Sekretariat Daerah", // its entry
		"bappeda": "Badan Perencanaan",  // no entry: its own office's name
		"nope":    "",                   // unknown
	} {
		if got := inv.OPDName(id); got != want {
			t.Errorf("OPDName(%q) = %q, want %q", id, got, want)
		}
	}
	// written back and read again: the same entries
	again, text := roundTrip(t, inv)
	if len(again.OPDs) != 2 || again.OPDs[1] != (OPD{ID: "setda", Name: "Sekretariat Daerah"}) {
		t.Errorf("round trip: %+v\n%s", again.OPDs, text)
	}
}

func TestOPDsYAMLErrors(t *testing.T) {
	_, err := Parse("inv.yml", []byte(`opds:
  - {id: dinkes, name: Dinas Kesehatan}
  - {id: dinkes, name: Dinas Kesehatan Lagi}
  - {id: Bad Id, name: X}
  - {id: setda}
  - {id: bpbd, name: BPBD, phone: 112}
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`inv.yml:6:28: opds[4].phone: unknown field`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in:\n%v", want, err)
		}
	}
	// strict decoding stops at the unknown key; without it the rest.
	// Columns: "  - {" is 5 characters, so an id's value starts at 10.
	_, err = Parse("inv.yml", []byte(`opds:
  - {id: dinkes, name: Dinas Kesehatan}
  - {id: dinkes, name: Dinas Kesehatan Lagi}
  - {id: Bad Id, name: X}
  - {id: setda}
`))
	want := []string{
		`inv.yml:3:10: opds[1].id: duplicate OPD id "dinkes" (first on line 2)`,
		`inv.yml:4:10: opds[2].id: invalid OPD id "Bad Id": use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`,
		`inv.yml:5:5: opds[3].name: required: the OPD's name as reports show it, such as "Dinas Kesehatan"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestOPDNameCSV(t *testing.T) {
	inv, err := ImportCSV("inv.csv", strings.NewReader("site_id;site_name;kind;opd;opd_name\n"+
		"dinkes;Kantor Dinkes;opd;;Dinas Kesehatan\n"+
		"kec-a;Kecamatan A;district;setda;Sekretariat Daerah\n"+
		"kec-b;Kecamatan B;district;setda;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.OPDName("dinkes"); got != "Dinas Kesehatan" {
		t.Errorf("dinkes: %q", got)
	}
	if got := inv.OPDName("setda"); got != "Sekretariat Daerah" {
		t.Errorf("setda: %q", got)
	}
	// columns: "kec-b,Kecamatan B,district,setda," is 33 characters, so
	// opd_name starts at 34; line 4's has no opd, opd_name starts at 29
	_, err = ImportCSV("bad.csv", strings.NewReader("site_id,site_name,kind,opd,opd_name\n"+
		"kec-a,Kecamatan A,district,setda,Sekretariat Daerah\n"+
		"kec-b,Kecamatan B,district,setda,Setda\n"+
		"kec-c,Kecamatan C,district,,Setda\n"))
	want := []string{
		`bad.csv:3:34: opd_name: "Setda" disagrees with "Sekretariat Daerah" on line 2 for OPD "setda"`,
		`bad.csv:4:29: opd_name: names an OPD, but the row has none: fill opd (or give the site kind opd)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
