package calendar

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadFileNamedForAnotherYear: holidays-2028.yml copied from 2027 and
// not yet edited (year: 2027) is refused, naming both years; it replaced
// the built-in 2027 and left 2028 without a calendar. A file whose name
// names no year (libur-daerah.yml) is read by its year: as before.
func TestLoadFileNamedForAnotherYear(t *testing.T) {
	copied := "year: 2027\nsource: \"SKB\"\nholidays:\n  - {date: 2027-08-17, kind: libur_nasional, name: \"Proklamasi\"}\n"
	_, err := load(fstest.MapFS{"holidays-2028.yml": {Data: []byte(copied)}}, "dir")
	if err == nil || !strings.Contains(err.Error(), "holidays-2028.yml: the file is named for 2028 but says year: 2027") {
		t.Errorf("holidays-2028.yml with year 2027: %v", err)
	}
	c, err := load(fstest.MapFS{"libur-daerah.yml": {Data: []byte("year: 2027\nsource: \"Perbup\"\nmode: add\nholidays:\n  - {date: 2027-10-12, kind: libur_daerah, name: \"HUT Kabupaten\"}\n")}}, "dir")
	if err != nil || !c.IsHoliday(2027, 10, 12) {
		t.Errorf("libur-daerah.yml: %v", err)
	}
}
