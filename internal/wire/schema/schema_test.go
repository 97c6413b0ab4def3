package schema

import "testing"

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
