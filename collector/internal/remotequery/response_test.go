package remotequery

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/prometheus/prometheus/model/labels"
)

func TestParseMillis(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := parseMillis(in)
		if err != nil || got != want {
			t.Errorf("parseMillis(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	f("1700000000.123", 1700000000123) // float64: 1700000000122.9999…
	f("1700000000", 1700000000000)
	f("1700000000.1", 1700000000100)
	f("1700000000.100", 1700000000100)
	f("1700000000.01", 1700000000010)
	f("1700000000.001", 1700000000001)
	f("1796179681.999", 1796179681999)
	f("1.700000000123e9", 1700000000123)
	f("1700000000123e-3", 1700000000123)
	f("17E8", 1700000000000)
	f("0", 0)
	f("0.0", 0)
	f("-0", 0)
	f("-1.5", -1500)
	f("0.0004", 0)
	f("0.0005", 1) // half a millisecond rounds away from zero
	f("-0.0005", -1)
	f("1700000000.1234", 1700000000123)
	f("1700000000.1235", 1700000000124)
	f("9223372036854775.807", math.MaxInt64)
	f("0.000000000000000000000000001e27", 1000)

	for _, bad := range []string{"", "-", ".", "e5", "1e", "1x", "abc", "NaN", "1e999", "9223372036854775.808", "99999999999999999999", "1..2"} {
		if got, err := parseMillis(bad); err == nil {
			t.Errorf("parseMillis(%q) = %d, want an error", bad, got)
		}
	}
}

// refMillis is parseMillis done with exact rational arithmetic.
func refMillis(s string) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, false
	}
	r.Mul(r, big.NewRat(1000, 1))
	neg := r.Sign() < 0
	r.Abs(r)
	// Round half away from zero: floor(r + 1/2).
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// FuzzParseMillis checks parseMillis against big.Rat and that
// fmtSeconds round-trips.
func FuzzParseMillis(f *testing.F) {
	for _, s := range []string{"1700000000.123", "1.5e3", "0.0005", "-12.3456", "9223372036854775.807", "1e-3"} {
		f.Add(s, int64(1700000000123))
	}
	f.Fuzz(func(t *testing.T, s string, ms int64) {
		if got, err := parseMillis(fmtSeconds(ms)); err != nil || got != ms {
			t.Fatalf("parseMillis(fmtSeconds(%d) = %q) = %d, %v", ms, fmtSeconds(ms), got, err)
		}
		if len(s) > 64 || strings.ContainsAny(s, "/_xXpP") || strings.HasPrefix(s, "+") {
			return // big.Rat takes fractions and hex; JSON numbers do not
		}
		if i := strings.IndexAny(s, "eE"); i >= 0 {
			if e, err := strconv.Atoi(s[i+1:]); err != nil || e > 400 || e < -400 {
				return
			}
		}
		got, err := parseMillis(s)
		want, ok := refMillis(s)
		if err == nil && (!ok || got != want) {
			t.Fatalf("parseMillis(%q) = %d, exact %d (ok %v)", s, got, want, ok)
		}
		if err != nil && ok && validJSONNumber(s) {
			t.Fatalf("parseMillis(%q): %v, exact %d", s, err, want)
		}
	})
}

func validJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && json.Valid([]byte(s))
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func TestDecodeMatrix(t *testing.T) {
	in := `{"status":"success","warnings":["w"],"data":{"result":[
	  {"metric":{"__name__":"m","z":"1","empty":""},"values":[[1700000000.123,"1.5"],[1700000001,"NaN"],[1700000002,"+Inf"],[1700000003,"-Inf"],[ 1700000004 , 2.5 ],[1700000005,"1e-300"],[1700000006,"\u0033"]]},
	  {"metric":{},"values":[]}],"resultType":"matrix","extra":{"x":[1,2]}}}`
	res, err := decodeResponse(strings.NewReader(in), matrixData)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "success" || len(res.Warnings) != 1 || len(res.Series) != 2 {
		t.Fatalf("got %+v", res)
	}
	s := res.Series[0]
	if want := labels.FromStrings("__name__", "m", "z", "1"); !labels.Equal(s.Labels, want) {
		t.Errorf("labels %s, want %s", s.Labels, want)
	}
	wantT := []int64{1700000000123, 1700000001000, 1700000002000, 1700000003000, 1700000004000, 1700000005000, 1700000006000}
	wantV := []float64{1.5, math.NaN(), math.Inf(1), math.Inf(-1), 2.5, 1e-300, 3}
	if len(s.T) != len(wantT) {
		t.Fatalf("%d samples, want %d", len(s.T), len(wantT))
	}
	for i := range wantT {
		if s.T[i] != wantT[i] || !(s.V[i] == wantV[i] || math.IsNaN(s.V[i]) && math.IsNaN(wantV[i])) {
			t.Errorf("sample %d = %d %g, want %d %g", i, s.T[i], s.V[i], wantT[i], wantV[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `<html>bad gateway</html>`, "not a Prometheus API answer"},
		{"truncated", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]`, "not a Prometheus API answer"},
		{"vector", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}`, `resultType "vector", want matrix`},
		{"no status", `{"data":{"resultType":"matrix","result":[]}}`, "no status"},
		{"no data", `{"status":"success"}`, "without data"},
		{"bad timestamp", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["1","1"]]}]}}`, "timestamp"},
		{"bad value", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"one"]]}]}}`, "value"},
		{"short sample", `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}`, "after the timestamp"},
		{"histograms", readFile(t, "prom-histogram.json"), "native histogram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeResponse(strings.NewReader(tc.in), matrixData)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errors.Is(err, errFormat) && tc.name != "histograms" {
				t.Fatalf("err = %v, want errFormat", err)
			}
		})
	}
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDecodeResponse feeds the parser real engine answers and their
// mutations. It must not panic; reading one byte at a time through a
// tiny buffer must give the same result; a valid answer must decode as
// encoding/json reads it; and what it decodes must encode back to an
// answer that decodes to the same series.
func FuzzDecodeResponse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, kind := range []dataKind{matrixData, stringsData, seriesData} {
			res, err := decodeResponse(bytes.NewReader(in), kind)
			small, errSmall := decodeResponseBuffer(iotest.OneByteReader(bytes.NewReader(in)), kind, 3)
			if (err == nil) != (errSmall == nil) {
				t.Fatalf("kind %d: %v, but byte by byte: %v", kind, err, errSmall)
			}
			ref, refErr := referenceDecode(in, kind)
			if refErr == nil && err != nil {
				t.Fatalf("kind %d: encoding/json reads it, decodeResponse says %v", kind, err)
			}
			if err != nil {
				continue
			}
			sameResponse(t, "byte by byte", res, small)
			if refErr == nil {
				sameResponse(t, "encoding/json", res, ref)
			}
			if kind != matrixData || res.Status != "success" {
				continue
			}
			again, err := decodeResponse(bytes.NewReader(encodeMatrix(res.Series)), matrixData)
			if err != nil {
				t.Fatalf("re-encoded answer: %v", err)
			}
			sameResponse(t, "re-encoded", &response{Series: res.Series}, &response{Series: again.Series})
		}
	})
}

func sameResponse(t *testing.T, what string, a, b *response) {
	t.Helper()
	if a.Status != b.Status || a.ErrorType != b.ErrorType || a.Error != b.Error || a.ResultType != b.ResultType ||
		!slices.Equal(a.Warnings, b.Warnings) || !slices.Equal(a.Infos, b.Infos) || !slices.Equal(a.Strings, b.Strings) ||
		len(a.Series) != len(b.Series) || len(a.LabelSets) != len(b.LabelSets) {
		t.Fatalf("%s differs:\n%+v\n%+v", what, a, b)
	}
	for i := range a.LabelSets {
		if !labels.Equal(a.LabelSets[i], b.LabelSets[i]) {
			t.Fatalf("%s: label set %d: %s vs %s", what, i, a.LabelSets[i], b.LabelSets[i])
		}
	}
	for i, s := range a.Series {
		o := b.Series[i]
		if !labels.Equal(s.Labels, o.Labels) || len(s.T) != len(o.T) || len(s.V) != len(o.V) {
			t.Fatalf("%s: series %d: %s %d samples vs %s %d", what, i, s.Labels, len(s.T), o.Labels, len(o.T))
		}
		for j := range s.T {
			if s.T[j] != o.T[j] || !(s.V[j] == o.V[j] || math.IsNaN(s.V[j]) && math.IsNaN(o.V[j])) {
				t.Fatalf("%s: sample %d: %d %g vs %d %g", what, j, s.T[j], s.V[j], o.T[j], o.V[j])
			}
		}
	}
}

// referenceDecode reads an answer with encoding/json, where a repeated
// member replaces the earlier one. It fails on anything decodeResponse
// need not take.
func referenceDecode(in []byte, kind dataKind) (*response, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(in, &top); err != nil {
		return nil, err
	}
	res := &response{}
	str := func(m map[string]json.RawMessage, key string, dst *string) error {
		if raw, ok := m[key]; ok {
			return json.Unmarshal(raw, dst)
		}
		return nil
	}
	for _, err := range []error{
		str(top, "status", &res.Status), str(top, "errorType", &res.ErrorType), str(top, "error", &res.Error),
		json.Unmarshal(orNull(top["warnings"]), &res.Warnings), json.Unmarshal(orNull(top["infos"]), &res.Infos),
	} {
		if err != nil {
			return nil, err
		}
	}
	data, ok := top["data"]
	if ok && string(data) != "null" {
		res.hasData = true
		lsets := func(raw json.RawMessage) (labels.Labels, error) {
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil {
				return labels.EmptyLabels(), err
			}
			b := labels.NewScratchBuilder(len(m))
			for k, v := range m {
				if v != "" {
					b.Add(k, v)
				}
			}
			b.Sort()
			return b.Labels(), nil
		}
		switch kind {
		case stringsData:
			if err := json.Unmarshal(data, &res.Strings); err != nil {
				return nil, err
			}
		case seriesData:
			var sets []json.RawMessage
			if err := json.Unmarshal(data, &sets); err != nil {
				return nil, err
			}
			for _, raw := range sets {
				lset, err := lsets(raw)
				if err != nil {
					return nil, err
				}
				res.LabelSets = append(res.LabelSets, lset)
			}
		case matrixData:
			var d map[string]json.RawMessage
			if err := json.Unmarshal(data, &d); err != nil {
				return nil, err
			}
			if err := str(d, "resultType", &res.ResultType); err != nil {
				return nil, err
			}
			var result []map[string]json.RawMessage
			if err := json.Unmarshal(orNull(d["result"]), &result); err != nil {
				return nil, err
			}
			for _, elem := range result {
				var rs rawSeries
				var err error
				if rs.Labels, err = lsets(orNull(elem["metric"])); err != nil {
					return nil, err
				}
				var hs []json.RawMessage
				if err := json.Unmarshal(orNull(elem["histograms"]), &hs); err != nil || len(hs) > 0 {
					return nil, errors.New("histograms")
				}
				var values [][]json.RawMessage
				if err := json.Unmarshal(orNull(elem["values"]), &values); err != nil {
					return nil, err
				}
				for _, pair := range values {
					if len(pair) != 2 {
						return nil, errors.New("not a pair")
					}
					ts, err := parseMillis(string(pair[0]))
					if err != nil {
						return nil, err
					}
					var text string
					if err := json.Unmarshal(pair[1], &text); err != nil {
						if pair[1][0] == '"' {
							return nil, err
						}
						text = string(pair[1])
					}
					v, err := strconv.ParseFloat(text, 64)
					if err != nil {
						return nil, err
					}
					rs.T, rs.V = append(rs.T, ts), append(rs.V, v)
				}
				res.Series = append(res.Series, rs)
			}
		}
	}
	if res.Status == "" || res.Status == "success" && (!res.hasData || kind == matrixData && res.ResultType != "matrix") {
		return nil, errors.New("not an answer")
	}
	return res, nil
}

func orNull(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("null")
	}
	return raw
}

// encodeMatrix writes series as Prometheus does.
func encodeMatrix(ss []rawSeries) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metric":{`)
		n := 0
		s.Labels.Range(func(l labels.Label) {
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			b.Write(jsonString(l.Name))
			b.WriteByte(':')
			b.Write(jsonString(l.Value))
		})
		b.WriteString(`},"values":[`)
		for j := range s.T {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("[" + fmtSeconds(s.T[j]) + `,"` + strconv.FormatFloat(s.V[j], 'g', -1, 64) + `"]`)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}}")
	return b.Bytes()
}
