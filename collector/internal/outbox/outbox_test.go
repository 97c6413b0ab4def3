package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// httpError is a failed POST as the test's sender classifies it.
type httpError struct {
	status     int
	retryAfter time.Duration
}

func (e *httpError) Error() string { return fmt.Sprintf("status %d", e.status) }

func classify(err error) (bool, time.Duration) {
	var he *httpError
	if errors.As(err, &he) {
		permanent := he.status >= 400 && he.status < 500 && he.status != 408 && he.status != 429
		return permanent, he.retryAfter
	}
	return false, 0
}

// post sends a payload to url/name as the notifiers do: one request, a
// timeout of its own.
func post(url, name string) func(ctx context.Context, payload []byte) error {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context, payload []byte) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/"+name, strings.NewReader(string(payload)))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode/100 == 2 {
			return nil
		}
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &httpError{status: resp.StatusCode, retryAfter: time.Duration(ra) * time.Second}
	}
}

// sink is an endpoint that answers from a script, then 204; it records
// every accepted payload per channel, in order.
type sink struct {
	mu       sync.Mutex
	script   []int // statuses for the first requests (any channel)
	requests int
	got      map[string][]string
	at       []request // every request
	block    chan struct{}
	blockOn  string // payload whose request waits for block
}

type request struct {
	ch     string
	t      time.Time
	status int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := s.requests
	status := 204
	if i < len(s.script) {
		status = s.script[i]
	}
	s.at = append(s.at, request{strings.TrimPrefix(r.URL.Path, "/"), time.Now(), status})
	s.requests++
	block := s.block != nil && string(body) == s.blockOn
	s.mu.Unlock()
	if block {
		<-s.block
	}
	if i < len(s.script) && s.script[i] != 204 {
		if s.script[i] == 429 {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(s.script[i])
		return
	}
	s.mu.Lock()
	s.got[strings.TrimPrefix(r.URL.Path, "/")] = append(s.got[strings.TrimPrefix(r.URL.Path, "/")], string(body))
	s.mu.Unlock()
	w.WriteHeader(204)
}

func (s *sink) delivered(ch string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got[ch]...)
}

func openDB(t *testing.T, dir string) *statedb.DB {
	t.Helper()
	db, err := statedb.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The endpoint fails with 500 for a while, then asks to wait with 429,
// then recovers: every notification arrives exactly once, in order per
// channel, and the wait it asked for is kept.
func TestOutboxRetriesInOrderExactlyOnce(t *testing.T) {
	s := &sink{script: []int{500, 500, 500, 429}, got: map[string][]string{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	db := openDB(t, t.TempDir())
	defer db.Close()
	reg := prometheus.NewRegistry()
	ob, err := New(Options{DB: db, Classify: classify, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Registerer: reg,
		Channels: []Channel{{Name: "tg", Type: "telegram", Send: post(srv.URL, "tg")}, {Name: "am", Type: "alertmanager", Send: post(srv.URL, "am")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	var want = map[string][]string{}
	for i := range 6 {
		for _, ch := range []string{"tg", "am"} {
			msg := fmt.Sprintf("%s-%d", ch, i)
			if added, err := ob.Enqueue(ctx, ch, msg, []byte(msg)); err != nil || !added {
				t.Fatalf("enqueue %s: %v %v", msg, added, err)
			}
			want[ch] = append(want[ch], msg)
		}
	}
	// the same message id again is not queued twice
	if added, err := ob.Enqueue(ctx, "tg", "tg-0", []byte("tg-0")); err != nil || added {
		t.Fatalf("duplicate enqueue: %v %v", added, err)
	}
	if _, err := ob.Enqueue(ctx, "nope", "x", nil); !errors.Is(err, ErrUnknownChannel) {
		t.Fatalf("unknown channel: %v", err)
	}
	waitFor(t, "every notification", func() bool { return len(s.delivered("tg")) == 6 && len(s.delivered("am")) == 6 })
	cancel()
	<-done
	for _, ch := range []string{"tg", "am"} {
		if got := s.delivered(ch); strings.Join(got, ",") != strings.Join(want[ch], ",") {
			t.Errorf("%s delivered %v, want %v", ch, got, want[ch])
		}
	}
	// 4 failed attempts, then 12 deliveries
	s.mu.Lock()
	requests, at := s.requests, append([]request(nil), s.at...)
	s.mu.Unlock()
	if requests != 16 {
		t.Errorf("%d requests, want 16 (4 failed, 12 delivered)", requests)
	}
	// the channel's next request after the 429 waited the second it asked for
	if at[3].status != 429 {
		t.Fatalf("request 4 answered %d", at[3].status)
	}
	for _, r := range at[4:] {
		if r.ch == at[3].ch {
			if gap := r.t.Sub(at[3].t); gap < time.Second {
				t.Errorf("%s retried %s after a 429 with Retry-After: 1", r.ch, gap)
			}
			break
		}
	}
	sent := testutil.ToFloat64(ob.m.sent.WithLabelValues("tg", "telegram")) + testutil.ToFloat64(ob.m.sent.WithLabelValues("am", "alertmanager"))
	retried := testutil.ToFloat64(ob.m.retried.WithLabelValues("tg", "telegram")) + testutil.ToFloat64(ob.m.retried.WithLabelValues("am", "alertmanager"))
	if sent != 12 || retried != 4 {
		t.Errorf("metrics: sent %v, retried %v", sent, retried)
	}
	if n, err := testutil.GatherAndCount(reg, "pantau_notification_outbox_entries"); err != nil || n != 2 {
		t.Errorf("outbox depth series: %d, %v", n, err)
	}
}

// A refused notification (400) is recorded as failed, reported, and does
// not hold back the ones behind it.
func TestOutboxPermanentFailure(t *testing.T) {
	s := &sink{script: []int{400}, got: map[string][]string{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	db := openDB(t, t.TempDir())
	defer db.Close()
	var refused []string
	var mu sync.Mutex
	ob, err := New(Options{DB: db, Classify: classify, MinBackoff: 10 * time.Millisecond,
		OnPermanent: func(e statedb.OutboxEntry, err error) {
			mu.Lock()
			refused = append(refused, e.MsgID+": "+err.Error())
			mu.Unlock()
		},
		Channels: []Channel{{Name: "slack", Type: "slack", Send: post(srv.URL, "slack")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	for _, m := range []string{"a", "b"} {
		ob.Enqueue(ctx, "slack", m, []byte(m))
	}
	waitFor(t, "b", func() bool { return len(s.delivered("slack")) == 1 })
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got := s.delivered("slack"); len(got) != 1 || got[0] != "b" || len(refused) != 1 || refused[0] != "a: status 400" {
		t.Errorf("delivered %v, refused %v", got, refused)
	}
	list, _ := db.OutboxList(context.Background(), "slack", 10)
	if len(list) != 2 || list[1].State != statedb.OutboxFailed || list[1].LastError != "status 400" || list[0].State != statedb.OutboxSent {
		t.Errorf("outbox %+v", list)
	}
	if v := testutil.ToFloat64(ob.m.failed.WithLabelValues("slack", "slack")); v != 1 {
		t.Errorf("failed metric %v", v)
	}
}

// A shutdown while a send is in flight finishes that send; a new process
// on the same state.db sends the rest, and nothing twice.
func TestOutboxRestartNeitherLosesNorDuplicates(t *testing.T) {
	s := &sink{got: map[string][]string{}, block: make(chan struct{}), blockOn: "m3"}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()
	db := openDB(t, dir)
	ob, err := New(Options{DB: db, Classify: classify, Channels: []Channel{{Name: "wa", Type: "http", Send: post(srv.URL, "wa")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	for i := range 8 {
		m := fmt.Sprintf("m%d", i)
		ob.Enqueue(ctx, "wa", m, []byte(m))
	}
	// m3's request has reached the endpoint; stop the process now
	waitFor(t, "m3 in flight", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.requests == 4 })
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(s.block) // the endpoint answers the request in flight
	<-done
	db.Close()
	if got := s.delivered("wa"); strings.Join(got, ",") != "m0,m1,m2,m3" {
		t.Fatalf("before the restart: %v", got)
	}

	db = openDB(t, dir)
	defer db.Close()
	ob, err = New(Options{DB: db, Classify: classify, Channels: []Channel{{Name: "wa", Type: "http", Send: post(srv.URL, "wa")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	waitFor(t, "the rest", func() bool { return len(s.delivered("wa")) == 8 })
	time.Sleep(100 * time.Millisecond) // anything sent twice would show now
	cancel()
	<-done
	if got := s.delivered("wa"); strings.Join(got, ",") != "m0,m1,m2,m3,m4,m5,m6,m7" {
		t.Errorf("after the restart: %v", got)
	}
}

// A notifier's rate limit spaces its requests; another notifier is not
// held back by it.
func TestOutboxRateLimit(t *testing.T) {
	s := &sink{got: map[string][]string{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	db := openDB(t, t.TempDir())
	defer db.Close()
	ob, err := New(Options{DB: db, Classify: classify, Channels: []Channel{
		{Name: "slow", Type: "telegram", PerMinute: 600, Send: post(srv.URL, "slow")}, // one per 100 ms
		{Name: "fast", Type: "webhook", Send: post(srv.URL, "fast")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	start := time.Now()
	for i := range 5 {
		ob.Enqueue(ctx, "slow", fmt.Sprint(i), []byte(fmt.Sprint(i)))
		ob.Enqueue(ctx, "fast", fmt.Sprint(i), []byte(fmt.Sprint(i)))
	}
	waitFor(t, "slow", func() bool { return len(s.delivered("slow")) == 5 })
	cancel()
	<-done
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("5 messages at 600/min took %s, want at least 400 ms", d)
	}
	if got := s.delivered("fast"); len(got) != 5 {
		t.Errorf("fast delivered %v", got)
	}
}

// lockedBuffer is a log sink the sender goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The wait after the n-th failure of an entry is internal/retry's full
// jitter between MinBackoff and MinBackoff·2ⁿ⁻¹ (at most MaxBackoff): with
// the random source pinned, each logged retry_in is exact, and the fourth
// retry may wait as little as MinBackoff.
func TestOutboxBackoffFullJitter(t *testing.T) {
	s := &sink{script: []int{500, 500, 500, 500}, got: map[string][]string{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	db := openDB(t, t.TempDir())
	defer db.Close()
	var logs lockedBuffer
	ob, err := New(Options{DB: db, Classify: classify, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Channels: []Channel{{Name: "wh", Type: "webhook", Send: post(srv.URL, "wh")}}})
	if err != nil {
		t.Fatal(err)
	}
	draws := 0 // the first retry draws nothing: its range is [Min, Min]
	ob.backoff.Rand = func(n int64) int64 {
		draws++
		if draws == 3 {
			return 0 // the bottom of [20ms, 80ms]
		}
		return n - 1 // the top
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ob.Run(ctx); close(done) }()
	if _, err := ob.Enqueue(ctx, "wh", "m1", []byte("m1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return len(s.delivered("wh")) == 1 })
	cancel()
	<-done
	var got []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if _, rest, ok := strings.Cut(line, "retry_in="); ok {
			got = append(got, strings.Fields(rest)[0])
		}
	}
	if want := []string{"20ms", "40ms", "80ms", "20ms"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("retry_in %v, want %v", got, want)
	}
	if draws != 3 {
		t.Errorf("%d draws from the random source, want 3", draws)
	}
}
