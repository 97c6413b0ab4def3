package webui

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitIDs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                    nil,
		" , ;":                nil,
		"dinkes":              {"dinkes"},
		"dinkes, dishub;bpd":  {"dinkes", "dishub", "bpd"},
		"dinkes\tdishub\r\nx": {"dinkes", "dishub", "x"},
	} {
		if got := splitIDs(in); !slices.Equal(got, want) {
			t.Errorf("splitIDs(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSplitIDs: the items are never empty and never hold a separator.
func FuzzSplitIDs(f *testing.F) {
	f.Add("dinkes, dishub;bpd")
	f.Add(" ,\t\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range splitIDs(s) {
			if id == "" || strings.ContainsAny(id, ",; \t\r\n") {
				t.Fatalf("splitIDs(%q) gave %q", s, id)
			}
		}
	})
}
