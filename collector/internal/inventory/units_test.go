package inventory

import (
	"math"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseBandwidth(t *testing.T) {
	for in, want := range map[string]Bandwidth{
		"20Mbps":               20e6,
		"1.5 Gbps":             1.5e9,
		"512kbps":              512e3,
		"512Kbps":              512e3,
		"100M":                 100e6,
		"100m":                 100e6,
		"2G":                   2e9,
		"1Tbps":                1e12,
		"2000000":              2e6,
		"0":                    0,
		"0Mbps":                0,
		"999bps":               999,
		"1.234kbps":            1234,
		"1.1Gbps":              1.1e9, // exact, no float rounding
		"0.5M":                 500e3,
		".5M":                  500e3,
		"10 Mbit/s":            10e6,
		"10Mb/s":               10e6,
		" 4 Mbps ":             4e6,
		"1.50000G":             1.5e9,
		"007Mbps":              7e6,
		"18446744073709551615": math.MaxUint64,
	} {
		got, err := ParseBandwidth(in)
		if err != nil || got != want {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":                     `invalid bandwidth "": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"Mbps":                 `invalid bandwidth "Mbps": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"-5M":                  `invalid bandwidth "-5M": must not be negative`,
		"20 Mbit":              `invalid bandwidth "20 Mbit": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"1.5":                  `invalid bandwidth "1.5": not a whole number of bits per second`,
		"1.0001k":              `invalid bandwidth "1.0001k": not a whole number of bits per second`,
		"1.2.3M":               `invalid bandwidth "1.2.3M": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"20 MiB":               `invalid bandwidth "20 MiB": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"1e9":                  `invalid bandwidth "1e9": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"+5M":                  `invalid bandwidth "+5M": use a number with a unit, such as 20Mbps, 1.5Gbps, 512kbps or 100M`,
		"20000000000000T":      `invalid bandwidth "20000000000000T": too large`,
		"18446744073709551616": `invalid bandwidth "18446744073709551616": too large`,
	} {
		got, err := ParseBandwidth(in)
		if err == nil || err.Error() != msg {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want error %s", in, got, err, msg)
		}
	}
}

func TestBandwidthString(t *testing.T) {
	for b, want := range map[Bandwidth]string{
		0:              "0",
		999:            "999bps",
		1000:           "1kbps",
		1234:           "1.234kbps",
		512e3:          "512kbps",
		20e6:           "20Mbps",
		1.5e9:          "1.5Gbps",
		1e9 + 1:        "1.000000001Gbps",
		2e12:           "2Tbps",
		math.MaxUint64: "18446744.073709551615Tbps",
	} {
		if got := b.String(); got != want {
			t.Errorf("Bandwidth(%d).String() = %q, want %q", uint64(b), got, want)
		}
		if back, err := ParseBandwidth(b.String()); err != nil || back != b {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want %d", b.String(), back, err, uint64(b))
		}
	}
}

func TestBandwidthYAML(t *testing.T) {
	var v struct {
		A, B, C Bandwidth
	}
	if err := yaml.Unmarshal([]byte("a: 20Mbps\nb: 1500000\nc: null\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 20e6 || v.B != 1.5e6 || v.C != 0 {
		t.Errorf("decoded %+v", v)
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "a: 20Mbps\nb: 1.5Mbps\nc: \"0\"\n" {
		t.Errorf("encoded %q, %v", out, err)
	}
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2026-12-31")
	if err != nil || d != (Date{2026, time.December, 31}) || d.String() != "2026-12-31" || d.IsZero() {
		t.Fatalf("ParseDate = %+v, %v", d, err)
	}
	if d, err := ParseDate("2028-02-29"); err != nil || d != (Date{2028, 2, 29}) {
		t.Errorf("leap day: %+v, %v", d, err)
	}
	for _, bad := range []string{"", "2026-13-01", "2027-02-29", "31/12/2026", "2026-1-5", "2026-12-31T00:00:00Z", "26-12-31", " 2026-12-31"} {
		if _, err := ParseDate(bad); err == nil || err.Error() != `invalid date "`+bad+`": use YYYY-MM-DD, such as 2026-12-31` {
			t.Errorf("ParseDate(%q): %v", bad, err)
		}
	}
	var zero Date
	if !zero.IsZero() || zero.String() != "" || !zero.In(time.UTC).IsZero() {
		t.Error("zero date")
	}
}

func TestDateIn(t *testing.T) {
	wit := location("WIT")
	got := Date{2026, 12, 31}.In(wit)
	if want := time.Date(2026, 12, 30, 15, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != wit {
		t.Errorf("In(WIT) = %v, want %v", got, want)
	}
	if got := (Date{2026, 1, 2}).In(nil); !got.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("In(nil) = %v", got)
	}
	if !(Date{2026, 1, 31}).before(Date{2026, 2, 1}) || (Date{2026, 2, 1}).before(Date{2026, 2, 1}) || (Date{2027, 1, 1}).before(Date{2026, 12, 31}) {
		t.Error("before")
	}
}

func TestDateYAML(t *testing.T) {
	var v struct{ A, B, C Date }
	if err := yaml.Unmarshal([]byte("a: 2026-12-31\nb: \"\"\nc: null\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != (Date{2026, 12, 31}) || !v.B.IsZero() || !v.C.IsZero() {
		t.Errorf("decoded %+v", v)
	}
	if err := yaml.Unmarshal([]byte("a: [2026]\n"), &v); err == nil || err.Error() != "yaml: unmarshal errors:\n  line 1: expected a date such as 2026-12-31" {
		t.Errorf("a list: %v", err)
	}
}
