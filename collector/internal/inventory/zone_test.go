package inventory

import (
	"strings"
	"testing"
)

func TestParseZoneAndPemdaZone(t *testing.T) {
	for in, want := range map[string]string{"": "Asia/Jakarta", "wib": "Asia/Jakarta", "WITA": "Asia/Makassar", "wit": "Asia/Jayapura", "Europe/Berlin": "Europe/Berlin"} {
		loc, err := ParseZone(in)
		if err != nil || loc.String() != want {
			t.Errorf("ParseZone(%q) = %v, %v; want %s", in, loc, err, want)
		}
	}
	if _, err := ParseZone("UTC+7"); err == nil || !strings.Contains(err.Error(), "want WIB, WITA, WIT or an IANA name") {
		t.Errorf("ParseZone(UTC+7): %v", err)
	}
	inv, err := Parse("inventory.yml", []byte("sites:\n  - {id: a, name: A, kind: opd, timezone: WIT}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		configured string
		inv        *Inventory
		want       string
	}{{"WITA", inv, "Asia/Makassar"}, {"", inv, "Asia/Jayapura"}, {"", nil, "Asia/Jakarta"}} {
		if got := PemdaZone(c.configured, c.inv).String(); got != c.want {
			t.Errorf("PemdaZone(%q, inv? %v) = %s, want %s", c.configured, c.inv != nil, got, c.want)
		}
	}
}
