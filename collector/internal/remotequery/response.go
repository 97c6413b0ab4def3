package remotequery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// dataKind is the shape of the "data" member a request expects.
type dataKind int

const (
	matrixData  dataKind = iota // /api/v1/query of a range selector
	stringsData                 // /api/v1/labels, /api/v1/label/<name>/values
	seriesData                  // /api/v1/series
)

// response is a decoded answer of the Prometheus HTTP API:
// {"status":"success"|"error","errorType":…,"error":…,"warnings":[…],
// "infos":[…],"data":…}.
type response struct {
	Status    string
	ErrorType string
	Error     string
	Warnings  []string
	Infos     []string

	ResultType string          // matrixData
	Series     []rawSeries     // matrixData
	Strings    []string        // stringsData
	LabelSets  []labels.Labels // seriesData
	hasData    bool
	// nanIsStale: the engine stores no NaN but stale markers, which
	// its JSON spells "NaN" (VictoriaMetrics).
	nanIsStale bool
}

// rawSeries is one series of a matrix: samples as the engine sent them.
type rawSeries struct {
	Labels labels.Labels
	T      []int64
	V      []float64
}

// errFormat marks an answer that is not the Prometheus HTTP API's JSON.
var errFormat = errors.New("not a Prometheus API answer")

// decodeResponse reads an API answer as it streams in, with a parser
// made for its shape: a 64 KiB buffer (grown only for a longer token)
// holds the input, series are kept as decoded, and samples
// are decoded without reflection or allocation. An answer with status
// "error" decodes without error: the caller turns it into an *APIError
// with the HTTP status.
func decodeResponse(r io.Reader, kind dataKind) (*response, error) {
	return decodeResponseBuffer(r, kind, 64<<10)
}

// decodeResponseBuffer starts with a buffer of size bytes; it grows for
// longer tokens.
func decodeResponseBuffer(r io.Reader, kind dataKind, size int) (*response, error) {
	l := &lexer{src: r, buf: make([]byte, 0, max(size, 1))}
	res := &response{}
	if err := res.decode(l, kind); err != nil {
		return nil, fmt.Errorf("%w: offset %d: %w", errFormat, l.offset(), err)
	}
	if res.Status == "" {
		return nil, fmt.Errorf("%w: no status", errFormat)
	}
	if res.Status == "success" {
		if !res.hasData {
			return nil, fmt.Errorf("%w: status success without data", errFormat)
		}
		if kind == matrixData && res.ResultType != "matrix" {
			return nil, fmt.Errorf("%w: resultType %q, want matrix", errFormat, res.ResultType)
		}
	}
	return res, nil
}

func (res *response) decode(l *lexer, kind dataKind) error {
	err := l.object(func(key string) error {
		var err error
		switch key {
		case "status":
			res.Status, err = l.stringOrNull()
		case "errorType":
			res.ErrorType, err = l.stringOrNull()
		case "error":
			res.Error, err = l.stringOrNull()
		case "warnings":
			res.Warnings, err = l.strings()
		case "infos":
			res.Infos, err = l.strings()
		case "data":
			err = res.decodeData(l, kind)
		default:
			err = l.skip()
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c, ok := l.peek(); ok {
		return fmt.Errorf("data after the answer: %q", c)
	}
	return l.err
}

func (res *response) decodeData(l *lexer, kind dataKind) error {
	if l.null() {
		return nil
	}
	res.hasData = true
	b := labels.NewScratchBuilder(8)
	switch kind {
	case stringsData:
		var err error
		res.Strings, err = l.strings()
		return err
	case seriesData:
		res.LabelSets = nil
		return l.array(func() error {
			lset, err := l.labelSet(&b)
			res.LabelSets = append(res.LabelSets, lset)
			return err
		})
	}
	return l.object(func(key string) error {
		var err error
		switch key {
		case "resultType":
			res.ResultType, err = l.stringOrNull()
		case "result":
			if c, _ := l.peek(); c != '[' {
				return l.skip() // a scalar or string result: resultType tells
			}
			res.Series = nil // a repeated member replaces, as in encoding/json
			err = l.array(func() error { return res.decodeSeries(l, &b) })
		default:
			err = l.skip()
		}
		if err != nil {
			return fmt.Errorf("data member %q: %w", key, err)
		}
		return nil
	})
}

// decodeSeries reads one element of a matrix result:
// {"metric":{…},"values":[[<seconds>,"<value>"],…]}.
func (res *response) decodeSeries(l *lexer, b *labels.ScratchBuilder) error {
	var rs rawSeries
	var hasHistograms bool
	err := l.object(func(key string) error {
		var err error
		switch key {
		case "metric":
			rs.Labels, err = l.labelSet(b)
		case "values":
			err = l.samples(&rs)
		case "histograms":
			hasHistograms = false
			if l.null() {
				return nil
			}
			err = l.array(func() error { hasHistograms = true; return l.skip() })
		default:
			err = l.skip()
		}
		if err != nil {
			return fmt.Errorf("result[%d] member %q: %w", len(res.Series), key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hasHistograms {
		return fmt.Errorf("series %s has native histogram samples, which remotequery does not read", rs.Labels)
	}
	res.Series = append(res.Series, rs)
	return nil
}

// lexer is a pull parser of a JSON stream.
type lexer struct {
	src io.Reader
	buf []byte // buf[i:] is not consumed yet
	i   int
	off int64 // input offset of buf[0]
	eof bool
	err error // a read error

	pairs []labels.Label // scratch of labelSet
	depth int            // of skip
}

func (l *lexer) offset() int64 { return l.off + int64(l.i) }

// fill reads more input, keeping buf[keep:], which moves to the front
// (l.i moves with it); it returns the new index of keep, and false at
// the end of the input.
func (l *lexer) fill(keep int) (int, bool) {
	if l.eof {
		return keep, false
	}
	if keep > 0 {
		n := copy(l.buf[:cap(l.buf)], l.buf[keep:])
		l.buf = l.buf[:n]
		l.off += int64(keep)
		l.i -= keep
	}
	n := len(l.buf)
	if n == cap(l.buf) { // a token longer than the buffer
		l.buf = append(l.buf, make([]byte, n)...)[:n]
	}
	for {
		m, err := l.src.Read(l.buf[n:cap(l.buf)])
		l.buf = l.buf[:n+m]
		if err != nil {
			l.eof = true
			if !errors.Is(err, io.EOF) {
				l.err = err
			}
			return 0, m > 0
		}
		if m > 0 {
			return 0, true
		}
	}
}

// peek skips white space and returns the next byte without consuming it.
func (l *lexer) peek() (byte, bool) {
	for {
		for l.i < len(l.buf) {
			switch c := l.buf[l.i]; c {
			case ' ', '\t', '\r', '\n':
				l.i++
			default:
				return c, true
			}
		}
		if _, ok := l.fill(l.i); !ok {
			return 0, false
		}
	}
}

// expect consumes c, the next byte after white space.
func (l *lexer) expect(c byte) error {
	got, ok := l.peek()
	if !ok {
		return l.unexpectedEnd()
	}
	if got != c {
		return fmt.Errorf("got %q, want %q", got, c)
	}
	l.i++
	return nil
}

func (l *lexer) unexpectedEnd() error {
	if l.err != nil {
		return l.err
	}
	return io.ErrUnexpectedEOF
}

// null consumes a null literal if it is next.
func (l *lexer) null() bool {
	if c, ok := l.peek(); !ok || c != 'n' {
		return false
	}
	return l.literal("null") == nil
}

func (l *lexer) literal(word string) error {
	for len(l.buf)-l.i < len(word) {
		var ok bool
		if _, ok = l.fill(l.i); !ok {
			return l.unexpectedEnd()
		}
	}
	if string(l.buf[l.i:l.i+len(word)]) != word {
		return fmt.Errorf("bad literal, want %s", word)
	}
	l.i += len(word)
	return nil
}

// object calls member for each key, with the lexer before its value.
func (l *lexer) object(member func(key string) error) error {
	if err := l.expect('{'); err != nil {
		return err
	}
	if c, ok := l.peek(); ok && c == '}' {
		l.i++
		return nil
	}
	for {
		key, err := l.str()
		if err != nil {
			return fmt.Errorf("object key: %w", err)
		}
		if err := l.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		c, ok := l.peek()
		if !ok {
			return l.unexpectedEnd()
		}
		l.i++
		switch c {
		case ',':
		case '}':
			return nil
		default:
			return fmt.Errorf("got %q after an object member", c)
		}
	}
}

// array calls elem for each element, with the lexer before it.
func (l *lexer) array(elem func() error) error {
	if err := l.expect('['); err != nil {
		return err
	}
	if c, ok := l.peek(); ok && c == ']' {
		l.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		c, ok := l.peek()
		if !ok {
			return l.unexpectedEnd()
		}
		l.i++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			return fmt.Errorf("got %q after an array element", c)
		}
	}
}

// rawString returns the bytes between the quotes of the next string,
// valid until the next read, and whether they need unescaping (escapes,
// control characters or invalid UTF-8).
func (l *lexer) rawString() (raw []byte, special bool, err error) {
	if err := l.expect('"'); err != nil {
		return nil, false, err
	}
	start := l.i
	for {
		for l.i < len(l.buf) {
			switch c := l.buf[l.i]; {
			case c == '"':
				raw = l.buf[start:l.i]
				l.i++
				return raw, special, nil
			case c == '\\':
				special = true
				l.i += 2
				continue
			case c < 0x20 || c >= utf8.RuneSelf:
				special = true
			}
			l.i++
		}
		// The string goes on past the buffer (or an escape's second byte
		// does): read more, keeping it.
		var ok bool
		if start, ok = l.fill(start); !ok {
			return nil, false, l.unexpectedEnd()
		}
	}
}

// str reads a string, unescaped as encoding/json does.
func (l *lexer) str() (string, error) {
	raw, special, err := l.rawString()
	if err != nil {
		return "", err
	}
	if !special || utf8.Valid(raw) && !hasEscapeOrControl(raw) {
		return string(raw), nil
	}
	return unquoteJSON(raw)
}

func hasEscapeOrControl(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return true
		}
	}
	return false
}

// unquoteJSON unescapes a JSON string body with encoding/json.
func unquoteJSON(raw []byte) (string, error) {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", err
	}
	return s, nil
}

func (l *lexer) stringOrNull() (string, error) {
	if l.null() {
		return "", nil
	}
	return l.str()
}

// strings reads an array of strings (or null).
func (l *lexer) strings() ([]string, error) {
	var dst []string
	if l.null() {
		return nil, nil
	}
	err := l.array(func() error {
		s, err := l.str()
		dst = append(dst, s)
		return err
	})
	return dst, err
}

// labelSet reads {"name":"value",…} (or null) as sorted labels without
// empty values; a repeated name keeps its last value, as in
// encoding/json.
func (l *lexer) labelSet(b *labels.ScratchBuilder) (labels.Labels, error) {
	b.Reset()
	if l.null() {
		return labels.EmptyLabels(), nil
	}
	l.pairs = l.pairs[:0]
	var index map[string]int // for large label sets only
	err := l.object(func(name string) error {
		v, err := l.stringOrNull()
		if err != nil {
			return err
		}
		if index == nil && len(l.pairs) >= 32 {
			index = make(map[string]int, 2*len(l.pairs))
			for i, p := range l.pairs {
				index[p.Name] = i
			}
		}
		if index != nil {
			if i, ok := index[name]; ok {
				l.pairs[i].Value = v
				return nil
			}
			index[name] = len(l.pairs)
		} else {
			for i := range l.pairs {
				if l.pairs[i].Name == name {
					l.pairs[i].Value = v
					return nil
				}
			}
		}
		l.pairs = append(l.pairs, labels.Label{Name: name, Value: v})
		return nil
	})
	if err != nil {
		return labels.EmptyLabels(), err
	}
	for _, p := range l.pairs {
		if p.Value != "" {
			b.Add(p.Name, p.Value)
		}
	}
	b.Sort()
	return b.Labels(), nil
}

// samples reads [[<seconds>,"<value>"],…] (or null) into rs.
func (l *lexer) samples(rs *rawSeries) error {
	rs.T, rs.V = rs.T[:0], rs.V[:0]
	if l.null() {
		return nil
	}
	return l.array(func() error {
		if err := l.expect('['); err != nil {
			return err
		}
		num, err := l.number()
		if err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		ts, err := parseMillis(num)
		if err != nil {
			return err
		}
		if err := l.expect(','); err != nil {
			return fmt.Errorf("after the timestamp: %w", err)
		}
		v, err := l.sampleValue()
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		if err := l.expect(']'); err != nil {
			return fmt.Errorf("closing a sample: %w", err)
		}
		rs.T = append(rs.T, ts)
		rs.V = append(rs.V, v)
		return nil
	})
}

// number returns the text of the next JSON number, valid until the
// next read.
func (l *lexer) number() ([]byte, error) {
	if _, ok := l.peek(); !ok {
		return nil, l.unexpectedEnd()
	}
	start := l.i
	for {
		for l.i < len(l.buf) && isNumberByte(l.buf[l.i]) {
			l.i++
		}
		if l.i < len(l.buf) {
			break
		}
		var ok bool
		if start, ok = l.fill(start); !ok {
			break
		}
	}
	if l.i == start {
		return nil, fmt.Errorf("want a number, got %q", l.buf[l.i])
	}
	return l.buf[start:l.i], nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// sampleValue reads a value as the API sends it, a string ("1.5",
// "NaN", "+Inf", "-Inf"), or leniently a bare number.
func (l *lexer) sampleValue() (float64, error) {
	c, ok := l.peek()
	if !ok {
		return 0, l.unexpectedEnd()
	}
	if c != '"' {
		num, err := l.number()
		if err != nil {
			return 0, err
		}
		return strconv.ParseFloat(string(num), 64)
	}
	raw, special, err := l.rawString()
	if err != nil {
		return 0, err
	}
	if special {
		s, err := unquoteJSON(raw)
		if err != nil {
			return 0, err
		}
		return strconv.ParseFloat(s, 64)
	}
	return strconv.ParseFloat(string(raw), 64)
}

// maxDepth bounds the nesting skip follows, as encoding/json does.
const maxDepth = 10_000

// skip consumes one JSON value of any shape.
func (l *lexer) skip() error {
	c, ok := l.peek()
	if !ok {
		return l.unexpectedEnd()
	}
	if c == '{' || c == '[' {
		if l.depth++; l.depth > maxDepth {
			return fmt.Errorf("nested deeper than %d", maxDepth)
		}
		defer func() { l.depth-- }()
	}
	switch {
	case c == '{':
		return l.object(func(string) error { return l.skip() })
	case c == '[':
		return l.array(l.skip)
	case c == '"':
		_, _, err := l.rawString()
		return err
	case c == 't':
		return l.literal("true")
	case c == 'f':
		return l.literal("false")
	case c == 'n':
		return l.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := l.number()
		return err
	}
	return fmt.Errorf("unexpected %q", c)
}

// parseMillis converts a JSON number of seconds to milliseconds exactly,
// from its decimal text: 1700000000.123 is 1700000000123, which
// float64 arithmetic can miss. Digits below a millisecond are rounded
// half away from zero.
func parseMillis[T ~string | ~[]byte](s T) (int64, error) {
	if ms, ok := parseMillisFast(s); ok {
		return ms, nil
	}
	return parseMillisSlow(string(s))
}

// parseMillisFast reads what both engines write, <seconds>[.<1-3
// digits>], without allocating.
func parseMillisFast[T ~string | ~[]byte](s T) (int64, bool) {
	var sec, frac int64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		sec = sec*10 + int64(s[i]-'0')
	}
	if i == 0 || i > 15 {
		return 0, false
	}
	if i == len(s) {
		return sec * 1000, true
	}
	if s[i] != '.' || len(s)-i-1 < 1 || len(s)-i-1 > 3 {
		return 0, false
	}
	scale := int64(100)
	for i++; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		frac += int64(s[i]-'0') * scale
		scale /= 10
	}
	return sec*1000 + frac, true
}

func parseMillisSlow(s string) (int64, error) {
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	// Significant digits (without the point) and the power of ten that
	// scales them to milliseconds.
	var digits []byte
	exp, i, sawDigit := 3, 0, false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits, sawDigit = append(digits, s[i]), true
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits, sawDigit = append(digits, s[i]), true
			exp--
		}
	}
	if !sawDigit {
		return 0, fmt.Errorf("timestamp %q is not a number", orig)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return 0, fmt.Errorf("timestamp %q: bad exponent", orig)
		}
		exp += e
		i = len(s)
	}
	if i != len(s) {
		return 0, fmt.Errorf("timestamp %q is not a number", orig)
	}
	// Drop leading zeros, and trailing zeros into the exponent.
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if len(digits) == 0 {
		return 0, nil
	}
	roundUp := false
	if exp < 0 {
		keep := len(digits) + exp
		if keep < 0 {
			return 0, nil // below half a millisecond
		}
		roundUp = digits[keep] >= '5'
		digits = digits[:keep]
		exp = 0
	}
	if len(digits)+exp > 19 {
		return 0, fmt.Errorf("timestamp %q overflows milliseconds", orig)
	}
	var ms uint64
	for _, d := range digits {
		ms = ms*10 + uint64(d-'0')
	}
	for ; exp > 0; exp-- {
		ms *= 10
	}
	if roundUp {
		ms++
	}
	if neg {
		if ms > math.MaxInt64+1 {
			return 0, fmt.Errorf("timestamp %q overflows milliseconds", orig)
		}
		return int64(-ms), nil // two's complement: -(MaxInt64+1) is MinInt64
	}
	if ms > math.MaxInt64 {
		return 0, fmt.Errorf("timestamp %q overflows milliseconds", orig)
	}
	return int64(ms), nil
}
