package batches

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := []Frame{{ID: "a/1", Body: []byte("gz1")}, {ID: "a/2", Body: nil}, {ID: "a/3", Body: bytes.Repeat([]byte{0}, 70000)}}
	b := Append(nil, in[0])
	b = Append(b, in[1:]...)
	want := len(Magic)
	for _, f := range in {
		want += FrameSize(f.ID, len(f.Body))
	}
	if len(b) != want {
		t.Fatalf("encoded %d bytes, FrameSize says %d", len(b), want)
	}
	out, err := Decode(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d frames, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].ID != in[i].ID || !bytes.Equal(out[i].Body, in[i].Body) {
			t.Errorf("frame %d: %q %d bytes, want %q %d bytes", i, out[i].ID, len(out[i].Body), in[i].ID, len(in[i].Body))
		}
	}
	if _, err := Decode(b, 2); !errors.Is(err, ErrTooManyFrames) {
		t.Errorf("3 frames with at most 2: %v, want ErrTooManyFrames", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	frame := func(id string, body string) []byte { return Append([]byte{'x'}, Frame{ID: id, Body: []byte(body)})[1:] }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	magic := []byte(Magic)
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"no magic", []byte("agent,site=a up=1 1\n"), `multi-batch body: does not start with "PNTB1"`},
		{"empty", magic, "multi-batch body: no batch in it"},
		{"cut id length", cat(magic, []byte{0}), "frame 1 at byte 6: cut short in its id length"},
		{"empty id", cat(magic, frame("", "x")), "frame 1 at byte 6: empty batch id"},
		{"long id", cat(magic, frame(strings.Repeat("x", 257), "x")), "frame 1 at byte 6: batch id of 257 bytes; at most 256 are allowed"},
		{"control byte", cat(magic, frame("a/\n1", "x")), `frame 1 at byte 6: batch id "a/\n1" holds a byte outside printable ASCII`},
		{"cut body", cat(magic, frame("a/1", "xyz"))[:len(magic)+2+3+4+1], "frame 1 at byte 6: body of 3 bytes, but only 1 follow"},
		{"cut length", cat(magic, frame("a/1", "x"))[:len(magic)+2+3+2], "frame 1 at byte 6: cut short in its id or body length"},
		{"repeated id", cat(magic, frame("a/1", "x"), frame("a/2", "y"), frame("a/1", "z")), `frame 3 at byte 26: batch id "a/1" repeats frame 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.body, 0)
			var fe *Error
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an *Error containing %q", err, tc.want)
			}
		})
	}
}

func TestIsContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		ContentType: true, "Application/Vnd.Pantau.Batches; v=1": true,
		"text/plain; charset=utf-8": false, "": false, "application/vnd.pantau.batches2": false,
	} {
		if got := IsContentType(ct); got != want {
			t.Errorf("IsContentType(%q) = %v, want %v", ct, got, want)
		}
	}
}

// FuzzDecode: any body decodes to frames or an error, never a panic; what
// decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, Frame{ID: "a/1", Body: []byte("x")}, Frame{ID: "a/2", Body: []byte("yy")}))
	f.Add([]byte(Magic))
	f.Add(append([]byte(Magic), 0xff, 0xff, 0, 0, 0, 0))
	f.Add(append([]byte(Magic), 0, 1, 'a', 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte("agent up=1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := Decode(b, 64)
		if err != nil {
			return
		}
		if again := Append(nil, frames...); !bytes.Equal(again, b) {
			t.Fatalf("decoded %d frames that encode to %d bytes, not the %d given", len(frames), len(again), len(b))
		}
	})
}
