// Package batches is the multi-batch form of a write request: several of
// the agent's queued batches (each line protocol with its own
// batch id) in one POST to /api/v2/write, so that a backlog drains in
// few round trips while the collector still de-duplicates batch by
// batch.
//
// The body (Content-Type ContentType; compressed as a whole, with
// Content-Encoding: gzip, as any write may be) is Magic followed by
// frames:
//
//	frame = id length (uint16, big endian, 1..MaxIDBytes)
//	        id        (the batch id, "<agent id>/<sequence>")
//	        length    (uint32, big endian)
//	        body      (the batch's line protocol)
//
// One gzip stream over every frame compresses the batches of a backlog,
// which repeat each other's names and tags, about twice as well as the
// batches gzip'd one by one (as the agent queues them).
//
// Magic is invalid line protocol (a measurement without fields), so that
// a collector that does not know the form refuses the body as a whole
// (400) and stores nothing of it; the agent then falls back to one batch
// per request.
//
// The collector answers 200 with a Response naming, for every frame in
// order, what happened to it (Result), or refuses the request as a
// whole with the usual error statuses.
package batches

import (
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// ContentType marks a multi-batch body.
const ContentType = "application/vnd.pantau.batches"

// Magic starts every multi-batch body (version 1).
const Magic = "PNTB1\n"

// MaxIDBytes bounds a frame's batch id (as the Pantau-Batch header).
const MaxIDBytes = 256

// frameHeader is the fixed part of a frame: id length and body length.
const frameHeader = 2 + 4

// Frame is one queued batch.
type Frame struct {
	ID   string
	Body []byte // line protocol
}

// FrameSize is the bytes a frame of id and a body of n bytes takes.
func FrameSize(id string, n int) int { return frameHeader + len(id) + n }

// IsContentType reports whether a Content-Type header names the form.
func IsContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.EqualFold(mt, ContentType)
}

// Append appends the encoding of frames to dst, with Magic first when
// dst is empty.
func Append(dst []byte, frames ...Frame) []byte {
	if len(dst) == 0 {
		dst = append(dst, Magic...)
	}
	for _, f := range frames {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(f.ID)))
		dst = append(dst, f.ID...)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f.Body)))
		dst = append(dst, f.Body...)
	}
	return dst
}

// ErrTooManyFrames is returned by Decode for a body of more frames than
// allowed.
var ErrTooManyFrames = errors.New("too many batches in one request")

// Error is a framing error: what is wrong, and where.
type Error struct {
	Frame  int // 1-based
	Offset int // byte offset of the frame in the body
	Msg    string
}

func (e *Error) Error() string {
	if e.Frame == 0 {
		return "multi-batch body: " + e.Msg
	}
	return fmt.Sprintf("multi-batch body: frame %d at byte %d: %s", e.Frame, e.Offset, e.Msg)
}

// Decode splits a body into its frames (whose IDs and Bodies alias b);
// more than maxFrames (0: no limit) is ErrTooManyFrames. An empty id, an
// id longer than MaxIDBytes or with bytes outside printable ASCII, an id
// repeated, or a length beyond the body is an *Error.
func Decode(b []byte, maxFrames int) ([]Frame, error) {
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return nil, &Error{Msg: fmt.Sprintf("does not start with %q (version 1 of %s)", strings.TrimSpace(Magic), ContentType)}
	}
	var frames []Frame
	seen := map[string]int{}
	off := len(Magic)
	for off < len(b) {
		n := len(frames) + 1
		if maxFrames > 0 && n > maxFrames {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyFrames, maxFrames)
		}
		fail := func(format string, a ...any) ([]Frame, error) {
			return nil, &Error{Frame: n, Offset: off, Msg: fmt.Sprintf(format, a...)}
		}
		rest := b[off:]
		if len(rest) < 2 {
			return fail("cut short in its id length")
		}
		idLen := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		switch {
		case idLen == 0:
			return fail("empty batch id")
		case idLen > MaxIDBytes:
			return fail("batch id of %d bytes; at most %d are allowed", idLen, MaxIDBytes)
		case len(rest) < idLen+4:
			return fail("cut short in its id or body length")
		}
		id := string(rest[:idLen])
		for i := 0; i < len(id); i++ {
			if id[i] <= ' ' || id[i] > '~' {
				return fail("batch id %q holds a byte outside printable ASCII", id)
			}
		}
		if first, dup := seen[id]; dup {
			return fail("batch id %q repeats frame %d", id, first)
		}
		seen[id] = n
		rest = rest[idLen:]
		bodyLen := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(bodyLen) > uint64(len(rest)) {
			return fail("body of %d bytes, but only %d follow", bodyLen, len(rest))
		}
		frames = append(frames, Frame{ID: id, Body: rest[:bodyLen:bodyLen]})
		off += frameHeader + idLen + int(bodyLen)
	}
	if len(frames) == 0 {
		return nil, &Error{Msg: "no batch in it"}
	}
	return frames, nil
}

// Results of a frame.
const (
	Stored    = "stored"    // stored now (Status 204, or 422 when samples were dropped)
	Duplicate = "duplicate" // stored before (Status 204): nothing stored again
	Rejected  = "rejected"  // not stored (Status: the one a single write would get)
)

// Result is what happened to one frame. Status is what the same batch
// sent alone would have been answered, so the agent treats it alike:
// 2xx acknowledged; 401, 403, 404, 405, 408, 429 and 5xx kept and sent
// again; any other 4xx refused for good (dead-lettered). Message names
// the problem (a line and column for a line-protocol error).
type Result struct {
	ID      string `json:"id"`
	Result  string `json:"result"`
	Status  int    `json:"status"`
	Message string `json:"message,omitempty"`
}

// Response is the collector's 200 answer to a multi-batch request: the
// counts, and a Result per frame in the order of the frames.
type Response struct {
	Stored    int      `json:"stored"`
	Duplicate int      `json:"duplicate"`
	Rejected  int      `json:"rejected"`
	Results   []Result `json:"results"`
}
