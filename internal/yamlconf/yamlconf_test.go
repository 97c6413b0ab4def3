package yamlconf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name     string   `yaml:"name"`
	Interval Duration `yaml:"interval"`
	Items    []struct {
		Target string `yaml:"target"`
		Count  int    `yaml:"count"`
	} `yaml:"items"`
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "7d": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute, "1.5h": 90 * time.Minute, "2w": 14 * 24 * time.Hour, "500ms": 500 * time.Millisecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseDuration("soon"); err == nil || !strings.Contains(err.Error(), "30s") {
		t.Errorf("bad duration error: %v", err)
	}
}

func TestDecodePositions(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"unknown nested": {"name: a\nitems:\n  - target: x\n    cuont: 3\n", "f.yml:4:5: items[0].cuont: unknown field (check the spelling; hint)"},
		"wrong type":     {"name: a\nitems:\n  - target: x\n    count: many\n", "f.yml:4:12: items[0].count: wrong type: cannot decode !!str `many` into int"},
		"bad duration":   {"interval: soon\n", "f.yml:1:11: interval: invalid duration \"soon\": use a number with a unit, such as 30s, 10m, 7d or 400d"},
		"syntax":         {"name: [a\n", "f.yml:1:1: YAML syntax: did not find expected ',' or ']'"},
		"two documents":  {"name: a\n---\nname: b\n", "f.yml:2:1: more than one YAML document; a config file holds exactly one"},
		"not a mapping":  {"- a\n", "f.yml:1:1: the config must be a mapping of keys"},
	} {
		var v sample
		_, err := Decode("f.yml", []byte(c.in), &v, "; hint")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", name, err, c.want)
		}
	}
}

func TestProblemsLocateAndSort(t *testing.T) {
	var v sample
	doc, err := Decode("f.yml", []byte("name: a\nitems:\n  - target: x\n    count: 0\n"), &v, "")
	if err != nil {
		t.Fatal(err)
	}
	p := NewProblems(doc)
	p.Add("items[0].count", "must be at least 1 (got %d)", v.Items[0].Count)
	p.OneOf("name", v.Name, "b", "c")
	p.Add("interval", "must be set")
	want := "f.yml: interval: must be set\n" +
		"f.yml:1:7: name: must be one of \"b\", \"c\" (got \"a\")\n" +
		"f.yml:4:12: items[0].count: must be at least 1 (got 0)"
	if got := p.Err().Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var fe *FieldError
	if !errors.As(p.Err(), &fe) {
		t.Error("not a FieldError")
	}
	if !doc.Has("items[0].target") || doc.Has("interval") {
		t.Error("Has")
	}
	if NewProblems(nil).Err() != nil {
		t.Error("empty problems")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: a\nitems:\n  - target: x\n    count: 3\n"))
	f.Add([]byte("interval: 7d\n"))
	f.Add([]byte("{name: [1, 2]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		doc, err := Decode("f.yml", data, &v, "")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		p := NewProblems(doc)
		p.Add("items[0].target", "x")
		_ = p.Err().Error()
	})
}
