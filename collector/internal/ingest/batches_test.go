package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/batches"
)

// frame is a batch of line protocol.
func frame(t testing.TB, id, lp string) batches.Frame {
	return batches.Frame{ID: id, Body: []byte(lp)}
}

// gzipped is the header of a body gzip'd as a whole (as the agent sends
// it).
var gzipped = map[string]string{"Content-Encoding": "gzip"}

// doBatches posts frames as one multi-batch request; it returns the
// status, the response (on 200) or the error message.
func (e *env) doBatches(agent string, body []byte, header map[string]string) (int, batches.Response, string) {
	e.t.Helper()
	return e.postBatches(e.t, agent, body, header)
}

func (e *env) postBatches(t testing.TB, agent string, body []byte, header map[string]string) (int, batches.Response, string) {
	t.Helper()
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v2/write?precision=ns", bytes.NewReader(body))
	hr.Header.Set("Authorization", "Token "+e.tokens[agent])
	hr.Header.Set("Content-Type", batches.ContentType)
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out batches.Response
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("200 with a body that is no batches.Response: %v: %q", err, b)
		}
		return res.StatusCode, out, ""
	}
	var j struct{ Message string }
	json.Unmarshal(b, &j)
	return res.StatusCode, out, j.Message
}

func results(r batches.Response) string {
	var s []string
	for _, x := range r.Results {
		s = append(s, fmt.Sprintf("%s %s %d", x.ID, x.Result, x.Status))
	}
	return strings.Join(s, ", ")
}

// TestBatchesDuplicates: frames stored before (in an earlier multi-batch
// request, or sent alone with a Pantau-Batch header) are answered
// duplicate and stored nothing again, the new ones beside them are
// stored; the ids of one request reach Store.Sync together, and a
// single write of an id stored in a multi-batch request is a duplicate
// too.
func TestBatchesDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	lp := func(i int) string { return fmt.Sprintf("m,b=%d v=%d %d\nm,b=%d w=1 %d\n", i, i, ns(now), i, ns(now)) }
	body := batches.Append(nil, frame(t, "agent-noc/1", lp(1)), frame(t, "agent-noc/2", lp(2)))
	st, r, msg := e.doBatches("agent-noc", gz(string(body)), gzipped)
	if st != 200 || results(r) != "agent-noc/1 stored 204, agent-noc/2 stored 204" || r.Stored != 2 {
		t.Fatalf("first request: %d %s %+v", st, msg, r)
	}
	if x := e.do(req{agent: "agent-noc", body: lp(3), batch: "agent-noc/3"}); x.status != 204 {
		t.Fatalf("single write: %d %s", x.status, x.msg)
	}
	body = batches.Append(nil, frame(t, "agent-noc/2", lp(2)), frame(t, "agent-noc/4", lp(4)), frame(t, "agent-noc/3", lp(3)), frame(t, "agent-noc/1", lp(1)))
	st, r, msg = e.doBatches("agent-noc", body, nil)
	want := "agent-noc/2 duplicate 204, agent-noc/4 stored 204, agent-noc/3 duplicate 204, agent-noc/1 duplicate 204"
	if st != 200 || results(r) != want || r.Stored != 1 || r.Duplicate != 3 || r.Rejected != 0 {
		t.Fatalf("second request: %d %s %+v, want %s", st, msg, r, want)
	}
	// The same again as a single write: a duplicate.
	if x := e.do(req{agent: "agent-noc", body: lp(4), batch: "agent-noc/4"}); x.status != 204 {
		t.Fatalf("single write: %d %s", x.status, x.msg)
	}
	// Another agent's batch of the same id is another batch.
	st, r, _ = e.doBatches("agent-other", batches.Append(nil, frame(t, "agent-noc/1", lp(9))), nil)
	if st != 200 || results(r) != "agent-noc/1 stored 204" {
		t.Fatalf("other agent: %d %s", st, results(r))
	}
	if n := len(e.samples()); n != 2*5 {
		t.Errorf("samples = %d, want 10 (5 batches of 2)", n)
	}
	if got := counterValue(t, e.h.m.batches.WithLabelValues("duplicate")); got != 4 {
		t.Errorf("duplicate batches = %v, want 4", got)
	}
	if got := counterValue(t, e.h.m.batches.WithLabelValues("stored")); got != 5 {
		t.Errorf("stored batches = %v, want 5", got)
	}
	// One Sync per request, with every id it stored.
	var ids [][]string
	for _, it := range e.h.o.Store.(*gateStore).items {
		var k []string
		for _, b := range it.(Committed).Batches {
			k = append(k, b.Agent+":"+b.Batch)
		}
		ids = append(ids, k)
	}
	if got := fmt.Sprint(ids); got != "[[agent-noc:agent-noc/1 agent-noc:agent-noc/2] [agent-noc:agent-noc/3] [agent-noc:agent-noc/4] [agent-other:agent-noc/1]]" {
		t.Errorf("Sync items: %s", got)
	}
}

// TestBatchesRejectedFrame: frames that a single write would refuse (a
// bad line, a timestamp beyond the window, a tag outside the token's
// scope) are answered rejected with that status and message,
// and store nothing; the good frames among them are stored, and their
// ids only are remembered. A frame over the series limit is stored in
// part (422), as a single write is. (The series of a refused frame's
// good lines count against the limit, as a refused single write's do.)
func TestBatchesRejectedFrame(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxSeriesPerAgent = 5 })
	good := func(i int) string { return fmt.Sprintf("m,b=%d v=1 %d\n", i, ns(now)) }
	body := batches.Append(nil,
		frame(t, "d/1", good(1)),
		frame(t, "d/2", good(2)+"m,b=2 v=oops\n"),
		frame(t, "d/3", fmt.Sprintf("m,b=3 v=1 %d\n", ns(now.Add(-8*24*time.Hour)))),
		frame(t, "d/4", fmt.Sprintf("m,site=other v=1 %d\n", ns(now))),
		frame(t, "d/6", good(6)),
		frame(t, "d/7", good(7)+good(8)+good(9)),
	)
	st, r, msg := e.doBatches("agent-dinkes", body, nil)
	want := "d/1 stored 204, d/2 rejected 400, d/3 rejected 400, d/4 rejected 403, d/6 stored 204, d/7 stored 422"
	if st != 200 || results(r) != want || r.Stored != 3 || r.Rejected != 3 {
		t.Fatalf("got %d %s %s, want %s", st, msg, results(r), want)
	}
	for i, sub := range map[int]string{
		1: "line 2 col 9: field value has unrecognized type",
		2: "is older than the out-of-order window",
		3: `tag site="other" is not allowed for agent "agent-dinkes"`,
		5: "partial write: line 3",
	} {
		if !strings.Contains(r.Results[i].Message, sub) {
			t.Errorf("%s: message %q, want it to contain %q", r.Results[i].ID, r.Results[i].Message, sub)
		}
	}
	if n := len(e.samples()); n != 4 {
		t.Errorf("samples = %d, want 4 (d/1, d/6, and two of d/7)", n)
	}
	for id, seen := range map[string]bool{"d/1": true, "d/2": false, "d/3": false, "d/4": false, "d/6": true, "d/7": true} {
		if got := e.h.o.Batches.Seen(statedb.BatchKey{Agent: "agent-dinkes", Batch: id}); got != seen {
			t.Errorf("%s remembered: %v, want %v", id, got, seen)
		}
	}
	if got := counterValue(t, e.h.m.batches.WithLabelValues("rejected")); got != 3 {
		t.Errorf("rejected batches = %v, want 3", got)
	}
	// The fixed batch is stored when sent again.
	st, r, _ = e.doBatches("agent-dinkes", batches.Append(nil, frame(t, "d/2", good(2)), frame(t, "d/1", good(1))), nil)
	if st != 200 || results(r) != "d/2 stored 204, d/1 duplicate 204" {
		t.Fatalf("again: %d %s", st, results(r))
	}
}

// TestBatchesRefused: what is wrong with the request as a whole is
// refused as a whole with a 4xx naming the problem, and nothing of it
// is stored: framing, too many batches, too many bytes (on the wire or
// decompressed), a Content-Encoding, a Pantau-Batch header. A body of
// the form sent as line protocol (to a collector that does not know the
// form) is refused as a bad line.
func TestBatchesRefused(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBatchesPerRequest = 3; o.MaxBodyBytes = 64 << 10 })
	good := func(i int) batches.Frame {
		return frame(t, fmt.Sprintf("agent-noc/%d", i), fmt.Sprintf("m,b=%d v=1 %d\n", i, ns(now)))
	}
	three := batches.Append(nil, good(1), good(2), good(3))
	big := frame(t, "agent-noc/9", strings.Repeat(fmt.Sprintf("m,b=9,pad=%s v=1 %d\n", strings.Repeat("x", 200), ns(now)), 400))
	random := make([]byte, 70<<10)
	for i := range random {
		random[i] = byte(i*7919 + i>>8)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		header map[string]string
		status int
		msg    string
	}{
		{"too many", batches.Append(three, good(4)), nil, 413, "too many batches in one request: more than 3 (limits.max_batches_per_request)"},
		{"decoded too large", gz(string(batches.Append(nil, good(1), big))), gzipped, 413, "body larger than 65536 bytes (limits.max_body_bytes)"},
		{"wire too large", batches.Append(nil, batches.Frame{ID: "agent-noc/1", Body: random}), nil, 413, "body larger than 65536 bytes"},
		{"framing", three[:len(three)-3], nil, 400, "multi-batch body: frame 3 at byte"},
		{"no magic", []byte("m v=1\n"), nil, 400, `multi-batch body: does not start with "PNTB1"`},
		{"not gzip", three, gzipped, 400, "body is not valid gzip"},
		{"brotli", three, map[string]string{"Content-Encoding": "br"}, 415, `unsupported Content-Encoding "br"`},
		{"header", three, map[string]string{"Pantau-Batch": "agent-noc/1"}, 400, "a Pantau-Batch header on a application/vnd.pantau.batches body"},
		{"as line protocol", three, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, 400, "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, r, msg := e.doBatches("agent-noc", tc.body, tc.header)
			if st != tc.status || !strings.Contains(msg, tc.msg) {
				t.Fatalf("got %d %q %s, want %d with %q", st, msg, results(r), tc.status, tc.msg)
			}
		})
	}
	if got := e.samples(); len(got) != 0 {
		t.Fatalf("stored %v", got)
	}
	if n := e.h.o.Batches.Len(); n != 0 {
		t.Fatalf("%d batch ids remembered", n)
	}
}

// TestBatchesResponseGzip: a long answer is gzip'd for a client that
// takes it (Go's client asks and unpacks it by itself).
func TestBatchesResponseGzip(t *testing.T) {
	e := newEnv(t, nil)
	var fs []batches.Frame
	for i := range 100 {
		fs = append(fs, frame(t, fmt.Sprintf("agent-noc/%d", i), fmt.Sprintf("m,b=%d v=1 %d\n", i, ns(now))))
	}
	hr, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v2/write", bytes.NewReader(batches.Append(nil, fs...)))
	hr.Header.Set("Authorization", "Token "+e.tokens["agent-noc"])
	hr.Header.Set("Content-Type", batches.ContentType)
	hr.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out batches.Response
	if err := json.NewDecoder(zr).Decode(&out); err != nil || out.Stored != 100 || len(out.Results) != 100 {
		t.Fatalf("%v: %+v", err, out.Stored)
	}
}

// FuzzBatchesRequest feeds arbitrary multi-batch bodies through the whole
// handler: it never answers 5xx, a request refused as a whole leaves the
// store unchanged, and a 200 answers every frame once, in order.
func FuzzBatchesRequest(f *testing.F) {
	ok := batches.Append(nil, batches.Frame{ID: "agent-noc/1", Body: []byte("m v=1 1795514400000000000\n")},
		batches.Frame{ID: "agent-noc/2", Body: []byte("m v=oops\n")}, batches.Frame{ID: "agent-noc/3", Body: []byte("x")})
	f.Add(ok)
	f.Add(ok[:len(ok)-2])
	f.Add([]byte(batches.Magic))
	f.Add([]byte("m v=1\n"))
	e := newEnv(f, func(o *Options) { o.MaxBatchesPerRequest = 16 })
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(e.samplesFor(t))
		st, r, msg := e.postBatches(t, "agent-noc", body, nil)
		switch {
		case st >= 500:
			t.Fatalf("%d %s", st, msg)
		case st != 200:
			if after := len(e.samplesFor(t)); after != before {
				t.Fatalf("refused request (%d %s) changed the store: %d -> %d samples", st, msg, before, after)
			}
		default:
			frames, err := batches.Decode(body, 16)
			if err != nil || len(frames) != len(r.Results) {
				t.Fatalf("200 with %d results for %d frames (%v)", len(r.Results), len(frames), err)
			}
			for i, x := range r.Results {
				if x.ID != frames[i].ID || x.Status == 0 {
					t.Fatalf("result %d: %+v for frame %q", i, x, frames[i].ID)
				}
			}
		}
	})
}
