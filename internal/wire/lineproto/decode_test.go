package lineproto

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type point struct {
	m      string
	tags   []string
	fields []string
	ts     int64
}

// decodeAll decodes body into points, or returns the first error.
func decodeAll(body []byte, prec Precision, def int64) ([]point, error) {
	d := NewDecoder(body, prec)
	var out []point
	for d.Next() {
		m, err := d.Measurement()
		if err != nil {
			return out, err
		}
		p := point{m: string(m)}
		for {
			k, v, err := d.NextTag()
			if err != nil {
				return out, err
			}
			if k == nil {
				break
			}
			p.tags = append(p.tags, string(k)+"="+string(v))
		}
		for {
			k, v, err := d.NextField()
			if err != nil {
				return out, err
			}
			if k == nil {
				break
			}
			p.fields = append(p.fields, string(k)+"="+v.String())
		}
		if p.ts, err = d.Time(def); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

func TestDecode(t *testing.T) {
	f := func(name, in string, prec Precision, want []point) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := decodeAll([]byte(in), prec, 1_700_000_000_123_456_789)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d points %+v, want %d", len(got), got, len(want))
			}
			for i := range want {
				if g, w := strings.Join(append(append([]string{got[i].m}, got[i].tags...), got[i].fields...), " "),
					strings.Join(append(append([]string{want[i].m}, want[i].tags...), want[i].fields...), " "); g != w || got[i].ts != want[i].ts {
					t.Errorf("point %d: got %q @%d, want %q @%d", i, g, got[i].ts, w, want[i].ts)
				}
			}
		})
	}
	f("icmp", "icmp,site=dinkes,target=10.20.0.1 loss_ratio=0.2,up=1i,packets_sent=5u 1700000000000000000\n", Nanosecond,
		[]point{{m: "icmp", tags: []string{"site=dinkes", "target=10.20.0.1"}, fields: []string{"loss_ratio=0.2", "up=1i", "packets_sent=5u"}, ts: 1700000000000000000}})
	f("seconds", "m v=1 1700000000", Second, []point{{m: "m", fields: []string{"v=1"}, ts: 1700000000e9}})
	f("minutes", "m v=1 28333333", Minute, []point{{m: "m", fields: []string{"v=1"}, ts: 28333333 * 60e9}})
	f("no timestamp uses default truncated to precision", "m v=1", Millisecond, []point{{m: "m", fields: []string{"v=1"}, ts: 1_700_000_000_123_000_000}})
	f("escapes and comments", "# comment\n\nm\\ x,t\\,k=a\\ b v=\"q\\\"\" 1\n", Nanosecond,
		[]point{{m: "m x", tags: []string{"t,k=a b"}, fields: []string{`v="q\""`}, ts: 1}})
	f("crlf and bool", "m b=true 5\r\nm b=F 6\r\n", Nanosecond, []point{{m: "m", fields: []string{"b=true"}, ts: 5}, {m: "m", fields: []string{"b=false"}, ts: 6}})
	f("negative timestamp", "m v=1 -5", Nanosecond, []point{{m: "m", fields: []string{"v=1"}, ts: -5}})
}

func TestDecodeErrors(t *testing.T) {
	f := func(name, in string, prec Precision, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := decodeAll([]byte(in), prec, 0)
			if err == nil {
				t.Fatal("no error")
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
		})
	}
	f("missing fields", "a v=1 1\nb,t=x\nc v=1", Nanosecond, `line 2 col 6: expected tag key or field but found '\n' instead (in "b,t=x")`)
	f("bad field value", "a v=1 1\na v=1 2\na v=x 3\n", Nanosecond, `line 3 col 5: field value has unrecognized type (in "a v=x 3")`)
	f("bad timestamp", "a v=1 12ab\n", Nanosecond, `line 1 col 7: invalid timestamp ("12ab") (in "a v=1 12ab")`)
	f("timestamp overflow at precision", "a v=1 9223372036854775\n", Second, `line 1 col 7: timestamp out of range: 9223372036854775 at precision s (in "a v=1 9223372036854775")`)
	f("unterminated string", "a v=\"abc\n", Nanosecond, `line 1 col 5: expected closing quote for string field value, found end of input (in "a v=\"abc")`)
}

func TestErrorAtEscaped(t *testing.T) {
	// An escaped key is unescaped into a side buffer; the error must still
	// point into the right line.
	body := []byte("m v=1 1\nm,t=a b\\ c=1 2\n")
	d := NewDecoder(body, Nanosecond)
	d.Next()
	d.Measurement()
	d.Next()
	d.Measurement()
	d.NextTag()
	d.NextTag()
	k, _, err := d.NextField()
	if err != nil {
		t.Fatal(err)
	}
	e := d.ErrorAt(k, errors.New("boom"))
	if e.Line != 2 || e.Text != `m,t=a b\ c=1 2` {
		t.Fatalf("got line %d text %q", e.Line, e.Text)
	}
}

func TestParsePrecision(t *testing.T) {
	for in, want := range map[string]Precision{"": Nanosecond, "ns": Nanosecond, "n": Nanosecond, "us": Microsecond, "u": Microsecond, "µ": Microsecond, "ms": Millisecond, "s": Second, "m": Minute, "h": Hour} {
		if got, err := ParsePrecision(in); err != nil || got != want {
			t.Errorf("ParsePrecision(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParsePrecision("sec"); !errors.Is(err, ErrUnknownPrecision) {
		t.Errorf("ParsePrecision(sec) error = %v", err)
	}
}

func TestExcerptCutsLongLines(t *testing.T) {
	long := "m " + strings.Repeat("é", 100) + "=1"
	got := excerpt([]byte(long))
	if !strings.HasSuffix(got, "…") || len(got) > 124 {
		t.Fatalf("excerpt = %q", got)
	}
}

// FuzzDecode checks the decoder never panics and that every error it
// returns is located inside the input.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.lp")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte("icmp,site=a loss_ratio=0.5,up=1i 1\n"), uint8(3))
	f.Add([]byte("m\\,x,t\\ =\\= v=\"a\\\\\" -1"), uint8(1))
	precs := []Precision{Nanosecond, Microsecond, Millisecond, Second, Minute, Hour}
	f.Fuzz(func(t *testing.T, body []byte, p uint8) {
		prec := precs[int(p)%len(precs)]
		_, err := decodeAll(body, prec, 0)
		var le *Error
		if err != nil && errors.As(err, &le) && le.Line > 0 {
			if le.Line > strings.Count(string(body), "\n")+1 {
				t.Fatalf("error line %d beyond input: %v", le.Line, err)
			}
		}
	})
}
