package schema

import (
	"math"
	"testing"
)

func TestMetricName(t *testing.T) {
	for _, c := range [][3]string{
		{"icmp", "rtt_avg_seconds", "pantau_icmp_rtt_avg_seconds"},
		{"snmp_if", "receive_bytes_total", "pantau_snmp_if_receive_bytes_total"},
		{"http.check", "time-total", "pantau_http_check_time_total"},
	} {
		if got := MetricName(c[0], c[1]); got != c[2] {
			t.Errorf("MetricName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{"site": "site", "if-name": "if_name", "1x": "_1x", "a.b c": "a_b_c", "Δ": "__"} {
		if got := LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestV1Kinds(t *testing.T) {
	// Names ending in _total are counters and must be unsigned.
	for m, meas := range V1 {
		for f, k := range meas.Fields {
			if len(f) > 6 && f[len(f)-6:] == "_total" && k != Uint {
				t.Errorf("%s.%s is a counter but declared %s", m, f, k)
			}
		}
	}
	if k, ok := FieldKind("icmp", "up"); !ok || k != Int {
		t.Errorf("icmp.up = %v %v", k, ok)
	}
	if _, ok := FieldKind("http", "up"); ok {
		t.Error("plugin measurements are not in v1")
	}
}

// TestV1Help: every v1 field has HELP text, and its metadata types the
// _total fields as counters (the query API said gauge for every one
// but the name's suffix), the others as gauges.
func TestV1Help(t *testing.T) {
	for m, meas := range V1 {
		for f := range meas.Fields {
			if meas.Help[f] == "" {
				t.Errorf("%s.%s has no help text", m, f)
			}
		}
		for f := range meas.Help {
			if _, ok := meas.Fields[f]; !ok {
				t.Errorf("%s has help for %s, which is not a field", m, f)
			}
		}
	}
	for name, want := range map[string]Metadata{
		"pantau_snmp_if_receive_bytes_total":      {"counter", V1["snmp_if"].Help["receive_bytes_total"], "bytes"},
		"pantau_agent_queue_dropped_points_total": {"counter", V1["agent"].Help["queue_dropped_points_total"], ""},
		"pantau_icmp_packets_sent":                {"gauge", V1["icmp"].Help["packets_sent"], ""},
		"pantau_icmp_rtt_avg_seconds":             {"gauge", V1["icmp"].Help["rtt_avg_seconds"], "seconds"},
		"pantau_snmp_if_speed_bits_per_second":    {"gauge", V1["snmp_if"].Help["speed_bits_per_second"], "bits_per_second"},
	} {
		if got, ok := MetadataOf(name); !ok || got != want {
			t.Errorf("MetadataOf(%s) = %+v %v, want %+v", name, got, ok, want)
		}
	}
	if _, ok := MetadataOf("pantau_http_up"); ok {
		t.Error("plugin series have no v1 metadata")
	}
}

func TestKindAccepts(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		k    Kind
		t    ValueType
		v    float64
		want bool
	}{
		{Int, IntValue, -3, true}, {Int, FloatValue, 1, false}, {Int, UintValue, 1, false},
		{Uint, UintValue, 7, true}, {Uint, IntValue, 0, true}, {Uint, IntValue, -1, false}, {Uint, FloatValue, 1, false},
		{Ratio, FloatValue, 0.5, true}, {Ratio, IntValue, 1, true}, {Ratio, FloatValue, 1.01, false},
		{Ratio, FloatValue, -0.01, false}, {Ratio, FloatValue, nan, false}, {Ratio, BoolValue, 1, false},
		{Float, FloatValue, -1e9, true}, {Float, UintValue, 3, true}, {Float, BoolValue, 1, false},
	} {
		if got := c.k.Accepts(c.t, c.v); got != c.want {
			t.Errorf("%s accepts type %d value %v: %v, want %v", c.k, c.t, c.v, got, c.want)
		}
	}
}
