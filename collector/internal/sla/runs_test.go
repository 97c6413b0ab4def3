package sla

import (
	"math/rand/v2"
	"testing"
)

// TestRunEnd: the end of every run, found by blocks, is where a plain
// scan finds it, for runs of every length from 1 to 700 and at the
// slice's end.
func TestRunEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s []Slots
	for len(s) < 200000 {
		v := Slots(rng.IntN(3)) // neighbouring runs may have equal values: one longer run
		for range 1 + rng.IntN(700) {
			s = append(s, v)
		}
	}
	for j := 0; j < len(s); j++ {
		want := j + 1
		for want < len(s) && s[want] == s[j] {
			want++
		}
		if got := runEnd(s, j); got != want {
			t.Fatalf("runEnd(s, %d) = %d, want %d", j, got, want)
		}
	}
	u := []uint16{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 1} // ten 7s: k = 1, 2, 4, 8, then 8+2 (block of 4 fails, of 2 fits), then 1 fails
	if got := runEnd(u, 0); got != 10 {
		t.Errorf("runEnd(u, 0) = %d, want 10", got)
	}
	if got := runEnd(u, 10); got != 11 {
		t.Errorf("runEnd(u, 10) = %d, want 11", got)
	}
	f := make([]Slots, 1000)
	fillRun(f, Uniform(Down))
	for i, v := range f {
		if v != Uniform(Down) {
			t.Fatalf("fillRun left %d at %v", i, v)
		}
	}
}
