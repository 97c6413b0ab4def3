package config

import (
	"strings"
	"testing"
)

// TestHolidaysDir: report.holidays_dir is read at load, relative to the
// config file, and a broken holiday file is an error naming both files.
func TestHolidaysDir(t *testing.T) {
	_, err := Load("testdata/holidays-broken.yml")
	want := "testdata/holidays-broken.yml:2:17: report.holidays_dir: testdata/holidays-bad/holidays-2029.yml:3:12: holidays[0].date: must be a date such as 2029-08-17 (got \"2029-02-30\")"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
