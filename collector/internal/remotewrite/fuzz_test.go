package remotewrite

import (
	"math"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// FuzzWriteRequestEncoding checks the hand-written protobuf encoder against
// the generic protobuf runtime: what it encodes decodes to the same series,
// labels, timestamps and values (bit for bit).
func FuzzWriteRequestEncoding(f *testing.F) {
	f.Add("icmp_rtt_seconds", "target", "10.0.0.1", int64(1_764_000_000_000), 0.003, int64(-5), math.Copysign(0, -1))
	f.Add("m", "a", "", int64(0), 0.0, int64(math.MaxInt64), math.Inf(-1))
	f.Add("ü", "le", "+Inf", int64(math.MinInt64), math.NaN(), int64(1), 1e308)
	f.Fuzz(func(t *testing.T, name, lname, lvalue string, t1 int64, v1 float64, t2 int64, v2 float64) {
		if name == "" || lname == "" || lname == "__name__" || !utf8.ValidString(name) || !utf8.ValidString(lname) || !utf8.ValidString(lvalue) {
			t.Skip() // not a valid label set, or not valid proto3 strings
		}
		a := labels.FromStrings("__name__", name)
		b := labels.FromStrings("__name__", name, lname, lvalue)
		in := []labels.Labels{a, b}
		samples := []sample{{0, t1, v1}, {0, t2, v2}, {1, t2, v2}}
		raw := appendWriteRequest(nil, in, samples)
		got, err := unmarshalWriteRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := []series{
			{Labels: a.String(), Samples: []point{{t1, v1}, {t2, v2}}},
			{Labels: b.String(), Samples: []point{{t2, v2}}},
		}
		if len(got) != len(want) {
			t.Fatalf("decoded %v, want %v", got, want)
		}
		for i := range want {
			if got[i].Labels != want[i].Labels || !equalPoints(got[i].Samples, want[i].Samples) {
				t.Fatalf("decoded %v, want %v", got, want)
			}
		}
	})
}
