// Package lineproto is Pantau's wire format: InfluxDB line protocol as the
// agent encodes it and the collector decodes it. It wraps
// github.com/influxdata/line-protocol/v2 with what both ends need beyond
// the bare syntax: every precision the InfluxDB 1 and 2 write APIs accept,
// and errors that name the line and column of the offending input and
// quote the line itself, so an operator can find it in a dead-letter file.
package lineproto

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Precision is the unit of line-protocol timestamps, as a number of
// nanoseconds per unit.
type Precision int64

// Precisions accepted by the InfluxDB 1 (/write) and 2 (/api/v2/write) APIs.
const (
	Nanosecond  Precision = 1
	Microsecond Precision = 1e3
	Millisecond Precision = 1e6
	Second      Precision = 1e9
	Minute      Precision = 60e9
	Hour        Precision = 3600e9
)

// ErrUnknownPrecision is returned by ParsePrecision for a value neither API knows.
var ErrUnknownPrecision = errors.New("unknown precision")

// ParsePrecision maps the precision query parameter to a Precision. An
// empty string means nanoseconds. The InfluxDB 2 names (ns, us, ms, s) and
// the InfluxDB 1 names (n, u, µ, ms, s, m, h) are both accepted, because
// Telegraf and the client libraries use either.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "ns", "n":
		return Nanosecond, nil
	case "us", "u", "µ", "µs":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, fmt.Errorf("%w %q: use one of ns, us, ms, s (InfluxDB 1 also m, h)", ErrUnknownPrecision, s)
}

// Error is a decoding or validation error located in the request body.
type Error struct {
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based byte column; 0 when unknown
	Text string // the offending line, shortened to at most 120 bytes
	Err  error
}

func (e *Error) Error() string {
	var b bytes.Buffer
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d col %d: ", e.Line, e.Col)
	}
	b.WriteString(e.Err.Error())
	if e.Text != "" {
		fmt.Fprintf(&b, " (in %q)", e.Text)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Decoder reads entries from a complete line-protocol body held in memory.
// Use it like lineprotocol.Decoder: Next, then Measurement, NextTag until a
// nil key, NextField until a nil key, then Time. Slices it returns are valid
// until the next call.
type Decoder struct {
	d    *lineprotocol.Decoder
	body []byte
	prec Precision
	// anchor is a slice of the current entry known to lie inside body;
	// ErrorAt falls back to it when the slice it is given does not.
	anchor []byte
}

// NewDecoder returns a decoder over body with timestamps in unit prec.
func NewDecoder(body []byte, prec Precision) *Decoder {
	return &Decoder{d: lineprotocol.NewDecoderWithBytes(body), body: body, prec: prec}
}

// Next advances to the next entry and reports whether there is one.
func (d *Decoder) Next() bool {
	d.anchor = nil
	return d.d.Next()
}

// Measurement returns the measurement name of the current entry.
func (d *Decoder) Measurement() ([]byte, error) {
	m, err := d.d.Measurement()
	if err != nil {
		return nil, d.wrap(err)
	}
	d.remember(m)
	return m, nil
}

// NextTag returns the next tag; key is nil after the last one.
func (d *Decoder) NextTag() (key, value []byte, err error) {
	key, value, err = d.d.NextTag()
	if err != nil {
		return nil, nil, d.wrap(err)
	}
	d.remember(key)
	return key, value, nil
}

// NextField returns the next field; key is nil after the last one.
func (d *Decoder) NextField() (key []byte, val lineprotocol.Value, err error) {
	key, val, err = d.d.NextField()
	if err != nil {
		return nil, val, d.wrap(err)
	}
	d.remember(key)
	return key, val, nil
}

// ErrTimestampRange is returned for a timestamp that does not fit in int64 nanoseconds.
var ErrTimestampRange = errors.New("timestamp out of range")

// Time returns the entry's timestamp in nanoseconds since the epoch, or
// def when the entry has none. It must be called after the last field.
func (d *Decoder) Time(def int64) (int64, error) {
	tb, err := d.d.TimeBytes()
	if err != nil {
		return 0, d.wrap(err)
	}
	if tb == nil {
		return def - def%int64(d.prec), nil
	}
	d.remember(tb)
	v, ok := parseInt(tb)
	if !ok {
		return 0, d.ErrorAt(tb, fmt.Errorf("invalid timestamp %q", tb))
	}
	if d.prec != Nanosecond {
		if v > math.MaxInt64/int64(d.prec) || v < math.MinInt64/int64(d.prec) {
			return 0, d.ErrorAt(tb, fmt.Errorf("%w: %s at precision %s", ErrTimestampRange, tb, d.prec))
		}
		v *= int64(d.prec)
	}
	return v, nil
}

// parseInt parses a decimal int64 without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

func (p Precision) String() string {
	switch p {
	case Nanosecond:
		return "ns"
	case Microsecond:
		return "us"
	case Millisecond:
		return "ms"
	case Second:
		return "s"
	case Minute:
		return "m"
	case Hour:
		return "h"
	}
	return fmt.Sprintf("%dns", int64(p))
}

// remember keeps b as the entry's anchor if it points into the body.
func (d *Decoder) remember(b []byte) {
	if d.offset(b) >= 0 {
		d.anchor = b
	}
}

// offset returns the position of b inside the body, or -1 when b was
// unescaped into a separate buffer by the decoder.
func (d *Decoder) offset(b []byte) int {
	if len(b) == 0 || len(d.body) == 0 {
		return -1
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(d.body)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < start || p >= start+uintptr(len(d.body)) {
		return -1
	}
	return int(p - start)
}

// ErrorAt returns err located at b, a slice returned by this decoder for
// the current entry. When b is not inside the body (it was unescaped), the
// error points at the last component of the entry that is.
func (d *Decoder) ErrorAt(b []byte, err error) *Error {
	off := d.offset(b)
	if off < 0 {
		off = d.offset(d.anchor)
	}
	if off < 0 {
		return &Error{Err: err}
	}
	return d.errorAtOffset(off, err)
}

func (d *Decoder) errorAtOffset(off int, err error) *Error {
	lineStart := bytes.LastIndexByte(d.body[:off], '\n') + 1
	lineEnd := bytes.IndexByte(d.body[off:], '\n')
	if lineEnd < 0 {
		lineEnd = len(d.body)
	} else {
		lineEnd += off
	}
	return &Error{
		Line: bytes.Count(d.body[:lineStart], []byte{'\n'}) + 1,
		Col:  off - lineStart + 1,
		Text: excerpt(d.body[lineStart:lineEnd]),
		Err:  err,
	}
}

// wrap converts the library's syntax error into an Error quoting the line.
func (d *Decoder) wrap(err error) error {
	var de *lineprotocol.DecodeError
	if !errors.As(err, &de) {
		return &Error{Err: err}
	}
	e := &Error{Line: int(de.Line), Col: de.Column, Err: de.Err}
	if start := lineOffset(d.body, e.Line); start >= 0 {
		end := bytes.IndexByte(d.body[start:], '\n')
		if end < 0 {
			end = len(d.body) - start
		}
		e.Text = excerpt(d.body[start : start+end])
	}
	return e
}

// lineOffset returns the byte offset of the 1-based line n, or -1.
func lineOffset(body []byte, n int) int {
	off := 0
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(body[off:], '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return off
}

func excerpt(line []byte) string {
	line = bytes.TrimRight(line, "\r")
	const max = 120
	if len(line) <= max {
		return string(line)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return string(line[:cut]) + "…"
}
