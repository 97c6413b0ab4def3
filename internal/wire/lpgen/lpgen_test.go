package lpgen

import (
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/internal/wire/lineproto"
)

func TestRoundDecodesAndRestamps(t *testing.T) {
	r := NewRound("a1", Mix{ICMP: 3, SNMPIf: 30, SNMPDevice: 2, Agent: 1}, 1764000000000000000)
	r.Signed()
	if strings.Contains(string(r.Body), "u,") {
		t.Fatal("unsigned values left after Signed")
	}
	r.Restamp(1764000000123456789)
	d := lineproto.NewDecoder(r.Body, lineproto.Nanosecond)
	lines, samples := 0, 0
	for d.Next() {
		if _, err := d.Measurement(); err != nil {
			t.Fatal(err)
		}
		for {
			k, _, err := d.NextTag()
			if err != nil {
				t.Fatal(err)
			}
			if k == nil {
				break
			}
		}
		for {
			k, _, err := d.NextField()
			if err != nil {
				t.Fatal(err)
			}
			if k == nil {
				break
			}
			samples++
		}
		ts, err := d.Time(0)
		if err != nil {
			t.Fatal(err)
		}
		if ts != 1764000000123456789 {
			t.Fatalf("line %d: ts %d", lines+1, ts)
		}
		lines++
	}
	if lines != 36 || samples != r.Samples {
		t.Fatalf("lines %d samples %d (round says %d)", lines, samples, r.Samples)
	}
	if !strings.HasPrefix(string(r.Body), "icmp,agent=a1,") {
		t.Fatalf("body starts %q", r.Body[:20])
	}
}
