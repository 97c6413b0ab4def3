package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"
	"github.com/pantau-noc/pantau/internal/wire/batches"
)

// batchCollector is a collector's write endpoint for the sender's tests:
// it takes single writes (Pantau-Batch) and, unless old, multi-batch
// ones, and answers each frame (or request) as frame says.
type batchCollector struct {
	old bool // answers a multi-batch body as an older collector: 400, a bad line
	// whole, when set, answers a multi-batch request as a whole (0: go on).
	whole func(n int) int
	// frame answers a frame (or single write) by its id and how often it
	// was seen; 0 means stored.
	frame func(id string, seen int) int

	mu       sync.Mutex
	seen     map[string]int
	stored   []string // ids stored, in order (duplicates not again)
	requests []int    // batches per request, single ones as 1
	singles  int
}

func (c *batchCollector) answer(id string) (int, string) {
	c.seen[id]++
	st := 0
	if c.frame != nil {
		st = c.frame(id, c.seen[id])
	}
	switch {
	case st != 0:
		return st, "test: refused " + id
	case slices.Contains(c.stored, id):
		return 204, ""
	}
	c.stored = append(c.stored, id)
	return 204, ""
}

func (c *batchCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if !batches.IsContentType(r.Header.Get("Content-Type")) || c.old {
		c.requests = append(c.requests, 1)
		id := r.Header.Get("Pantau-Batch")
		if c.old && id == "" {
			http.Error(w, `{"code":"invalid","message":"line 1 col 6: missing fields"}`, http.StatusBadRequest)
			return
		}
		c.singles++
		st, msg := c.answer(id)
		if st == 204 {
			w.WriteHeader(204)
			return
		}
		http.Error(w, `{"code":"invalid","message":"`+msg+`"}`, st)
		return
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		http.Error(w, "not gzip'd", http.StatusTeapot)
		return
	}
	body, err := gunzip(body)
	if err != nil {
		http.Error(w, "gzip", http.StatusTeapot)
		return
	}
	frames, err := batches.Decode(body, 0)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.requests = append(c.requests, len(frames))
	if c.whole != nil {
		if st := c.whole(len(frames)); st != 0 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"code":"x","message":"test: whole request refused"}`, st)
			return
		}
	}
	var out batches.Response
	for _, f := range frames {
		if !bytes.HasPrefix(f.Body, []byte("icmp,")) {
			http.Error(w, "frame "+f.ID+" is no line protocol", http.StatusTeapot)
			return
		}
		st, msg := c.answer(f.ID)
		out.Results = append(out.Results, batches.Result{ID: f.ID, Status: st, Message: msg})
	}
	w.WriteHeader(200)
	json.NewEncoder(w).Encode(out)
}

// batchSender queues n batches and returns a sender of them to c that
// sends up to maxBytes per request.
func batchSender(t *testing.T, c *batchCollector, n int, maxBytes int64) (*sender, *spool.Spool, string) {
	t.Helper()
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	c.seen = map[string]int{}
	dir := t.TempDir()
	sp, err := spool.Open(spool.Options{Dir: dir, SyncInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	for i := 1; i <= n; i++ {
		sp.Append(context.Background(), []byte(fmt.Sprintf("icmp,target=127.0.0.1 up=1i %d\n", i)), 1)
	}
	dl := filepath.Join(dir, "dead.jsonl")
	s := testSender(srv, sp, dl, slog.New(slog.DiscardHandler))
	s.maxRequestBytes = maxBytes
	return s, sp, dl
}

// drainOldest runs the oldest-first lane alone (a deterministic order)
// until the queue is empty.
func drainOldest(t *testing.T, s *sender, sp *spool.Spool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.lane(ctx, false); close(done) }()
	ok := lab.WaitFor(ctx, 20*time.Second, func() bool { return sp.Stats().Records == 0 })
	cancel()
	<-done
	if !ok {
		t.Fatalf("queue not drained: %+v", sp.Stats())
	}
}

func ids(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("agent-1/%d", i))
	}
	return out
}

// TestSenderBatches: the oldest lane sends the backlog in requests of
// several batches up to queue.max_request_bytes, and settles each batch
// by its frame's answer: stored and duplicate acknowledged, a refused
// one (400) dead-lettered alone, one kept (403, a 503 of the request as
// a whole) sent again; every batch reaches the collector, the refused
// one only in the dead-letter file.
func TestSenderBatches(t *testing.T) {
	c := &batchCollector{
		frame: func(id string, seen int) int {
			switch {
			case id == "agent-1/3":
				return 400
			case id == "agent-1/5" && seen == 1:
				return 403
			}
			return 0
		},
	}
	calls := 0
	c.whole = func(n int) int {
		calls++
		if calls == 2 {
			return 503
		}
		return 0
	}
	// A frame of one batch is about 60 bytes: three or four fit in 256.
	s, sp, dl := batchSender(t, c, 20, 256)
	drainOldest(t, s, sp)
	c.mu.Lock()
	defer c.mu.Unlock()
	want := slices.DeleteFunc(ids(1, 20), func(id string) bool { return id == "agent-1/3" })
	got := slices.Clone(c.stored)
	slices.SortFunc(got, func(a, b string) int { return cmp.Or(len(a)-len(b), strings.Compare(a, b)) })
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("stored %v, want %v", got, want)
	}
	if slices.Max(c.requests) < 2 || slices.Max(c.requests) > 4 {
		t.Errorf("batches per request %v, want 2 to 4 (256 bytes)", c.requests)
	}
	b, err := os.ReadFile(dl)
	if err != nil || bytes.Count(b, []byte("\n")) != 1 || !bytes.Contains(b, []byte(`"batch":3`)) || !bytes.Contains(b, []byte(`"message":"test: refused agent-1/3"`)) {
		t.Fatalf("dead letters: %s %v", b, err)
	}
	t.Logf("batches per request: %v", c.requests)
}

// TestSenderBatchesOlderCollector: a collector that reads the multi-batch
// body as line protocol (400, nothing stored), or refuses it as a whole
// with 415 or another 4xx, gets every batch again, one per request with
// its Pantau-Batch header, and nothing is lost or dead-lettered.
func TestSenderBatchesOlderCollector(t *testing.T) {
	for _, status := range []int{400, 415, 418} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c := &batchCollector{old: status == 400}
			if status != 400 {
				c.whole = func(int) int { return status }
			}
			s, sp, dl := batchSender(t, c, 10, 1<<20)
			drainOldest(t, s, sp)
			c.mu.Lock()
			defer c.mu.Unlock()
			if strings.Join(c.stored, " ") != strings.Join(ids(1, 10), " ") || c.singles != 10 {
				t.Fatalf("stored %v with %d single writes", c.stored, c.singles)
			}
			if len(c.requests) != 11 {
				t.Fatalf("%d requests, want 11: one of 10 batches, then one per batch", len(c.requests))
			}
			if _, err := os.Stat(dl); !os.IsNotExist(err) {
				t.Fatalf("dead-letter file: %v", err)
			}
		})
	}
}

// TestSenderBatchesTooLarge: a collector that takes at most 3 batches per
// request (413 above) gets smaller requests until they fit.
func TestSenderBatchesTooLarge(t *testing.T) {
	c := &batchCollector{whole: func(n int) int {
		if n > 3 {
			return 413
		}
		return 0
	}}
	s, sp, _ := batchSender(t, c, 40, 1<<20)
	drainOldest(t, s, sp)
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Join(c.stored, " ") != strings.Join(ids(1, 40), " ") {
		t.Fatalf("stored %v", c.stored)
	}
	// 40 → 413, 20 → 413, 10 → 413, 5 → 413, then requests of 2.
	if got := fmt.Sprint(c.requests[:5]); got != "[40 20 10 5 2]" {
		t.Fatalf("batches per request %v", c.requests)
	}
}
