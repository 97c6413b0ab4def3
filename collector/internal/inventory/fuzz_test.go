package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func seedFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no seeds match testdata/%s", pattern)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse: Parse never panics, and what it accepts is written and
// parsed back to an equal inventory.
func FuzzParse(f *testing.F) {
	seedFiles(f, "*.yml")
	f.Add(ExampleYAML)
	f.Add([]byte("opds: []\nsites: []\n"))
	f.Add([]byte("opds:\n  - {id: a, name: \"Dinas: \\\"x\\\"\\n\"}\n  - {id: b, name: ' y '}\n"))
	f.Add([]byte("sites:\n  - {id: a, name: \"x\\ny\", kind: opd, lat: 0, lon: -0.0, sla_target: 1e-3}\n" +
		"links:\n  - {id: a.b_c, site: a, name: 'yes', bandwidth: 1.000000001G, thresholds: {rtt: 1500us, loss_ratio: 0}, contract: {target: 100, exclude: []}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := inv.WriteYAML(&buf, "fuzz.yml"); err != nil {
			t.Fatalf("write an accepted inventory: %v", err)
		}
		back, err := Parse("written.yml", buf.Bytes())
		if err != nil {
			t.Fatalf("written inventory does not parse: %v\n%s", err, buf.Bytes())
		}
		if !sameInventory(inv, back) {
			t.Fatalf("written inventory parses to another:\n%s\n got: %+v\nwant: %+v", buf.Bytes(), back, inv)
		}
	})
}

// FuzzImportCSV: ImportCSV never panics, and what it accepts is written
// and parsed back to an equal inventory.
func FuzzImportCSV(f *testing.F) {
	seedFiles(f, "*.csv")
	f.Add([]byte(csvHeader + "dc,DC,datacenter,,,dc-fo,fibre,20Mbps,10.0.0.1,a1,2%,50ms,99,5m,none,\"1.000\",2026-01-01,\n"))
	f.Add([]byte("site_id;site_name;kind;lat\ndc;\"Data; Center\";OPD;0,5\n"))
	f.Add([]byte("site_id;site_name;kind;opd;opd_name\ndc;DC;opd;;Dinas \"A\"\nk;K;district;dc;Dinas \"A\"\n"))
	f.Add([]byte("\xef\xbb\xbfsite_id,site_name,kind\n\"a\",\"b\"\"c\",campus\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := ImportCSV("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := inv.WriteYAML(&buf, "fuzz.csv"); err != nil {
			t.Fatalf("write an accepted inventory: %v", err)
		}
		back, err := Parse("written.yml", buf.Bytes())
		if err != nil {
			t.Fatalf("written inventory does not parse: %v\n%s", err, buf.Bytes())
		}
		if !sameInventory(inv, back) {
			t.Fatalf("written inventory parses to another:\n%s\n got: %+v\nwant: %+v", buf.Bytes(), back, inv)
		}
	})
}

// FuzzServiceHours: any service_hours Parse accepts resolves to a
// schedule whose hours are a non-empty part of the day on some weekday,
// and round-trips.
func FuzzServiceHours(f *testing.F) {
	f.Add("[mon, tue, wed, thu, fri]", "07:30", "16:00", "exclude", "")
	f.Add("[sat]", "00:00", "24:00", "include", "")
	f.Add("", "", "", "", "24x7")
	f.Add("[mon]", "23:59", "24:00", "", "kantor")
	f.Fuzz(func(t *testing.T, days, from, to, holidays, schedule string) {
		q := func(s string) string { return strconv.Quote(s) }
		src := "defaults:\n  schedules:\n    kantor: {days: [mon], from: \"08:00\", to: \"09:00\"}\n" +
			"sites: [{id: a, name: A, kind: opd}]\nlinks:\n  - id: a-fo\n    site: a\n    service_hours:\n"
		if days != "" {
			src += "      days: " + days + "\n"
		}
		for _, kv := range [][2]string{{"from", from}, {"to", to}, {"holidays", holidays}, {"schedule", schedule}} {
			if kv[1] != "" {
				src += "      " + kv[0] + ": " + q(kv[1]) + "\n"
			}
		}
		inv, err := Parse("fuzz.yml", []byte(src))
		if err != nil {
			return
		}
		if inv.Link("a-fo").ServiceHours == nil {
			return // service_hours: null is not given
		}
		h := inv.Link("a-fo").Hours
		if h == nil {
			t.Fatalf("accepted service_hours resolved to nothing:\n%s", src)
		}
		open := false
		for _, d := range h.Days {
			open = open || d
		}
		if !h.Always && (!open || h.From < 0 || h.To > 24*60 || h.From >= h.To) {
			t.Fatalf("accepted %+v from\n%s", h, src)
		}
		roundTrip(t, inv)
	})
}
