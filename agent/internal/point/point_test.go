package point

import (
	"math"
	"testing"
	"time"
)

func TestEncode(t *testing.T) {
	ts := time.Unix(1764000000, 123456789)
	p := New("icmp", ts).Tag("target", "127.0.0.1").Tag("agent", "a1").Tag("name", "").
		Float("rtt_avg_seconds", 0.0031).Float("bad", math.NaN()).Uint("packets_sent", 5).Int("up", 1)
	empty := New("icmp", ts)
	bad := New("icmp", ts).Tag("", "x").Int("up", 1)
	e := NewEncoder()
	for _, q := range []*Point{p, empty} {
		if err := e.Add(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Add(bad); err == nil {
		t.Fatal("empty tag key accepted")
	}
	if err := e.Add(p); err != nil {
		t.Fatal(err)
	}
	line := "icmp,agent=a1,target=127.0.0.1 rtt_avg_seconds=0.0031,packets_sent=5u,up=1i 1764000000123456789\n"
	if got := string(e.Bytes()); got != line+line {
		t.Fatalf("got\n%s", got)
	}
	if v, ok := p.FieldValue("packets_sent"); !ok || v != 5 {
		t.Fatal("FieldValue")
	}
	if p.TagValue("agent") != "a1" {
		t.Fatal("TagValue")
	}
}
