package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/pantau-noc/pantau/internal/retry"
)

const drainTimeout = 30 * time.Second

func TestTeeWithInner(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	q := openQueue(t, Options{
		Endpoints:            []Endpoint{{Name: "vm", URL: rcv.url(), Headers: map[string]string{"X-Scope-OrgID": "pemda"}}},
		MaxSamplesPerRequest: 3,
		UserAgent:            "pantau-collector/test",
	})
	rtt := labels.FromStrings("__name__", "icmp_rtt_seconds", "target", "10.0.0.1")
	loss := labels.FromStrings("__name__", "icmp_loss_ratio", "target", "10.0.0.1")
	zero := labels.FromStrings("__name__", "zero")
	bad := labels.FromStrings("__name__", "icmp_rtt_seconds", "bad", "yes")

	// inner rejects a commit: nothing is queued.
	inner := &fakeAppender{failCommit: true}
	app := q.Appender(inner)
	if _, err := app.Append(0, rtt, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); !errors.Is(err, errCommit) {
		t.Fatalf("Commit = %v, want inner's error", err)
	}
	// rolled back: nothing is queued.
	inner = &fakeAppender{}
	app = q.Appender(inner)
	app.Append(0, rtt, 1000, 1)
	if err := app.Rollback(); err != nil || !inner.rolledBack {
		t.Fatalf("Rollback = %v, inner rolled back: %v", err, inner.rolledBack)
	}
	if b, _, _ := q.Pending("vm"); b != 0 {
		t.Fatalf("%d batches queued after a failed commit and a rollback", b)
	}

	inner = &fakeAppender{failLabel: "bad"}
	app = q.Appender(inner)
	ref, err := app.Append(0, rtt, 3000, 0.003)
	if err != nil || ref != 1001 {
		t.Fatalf("Append = %d, %v; want inner's ref 1001", ref, err)
	}
	app.Append(0, loss, 1000, 0)
	app.Append(ref, rtt, 1000, 0.001) // out of order within the series
	if _, err := app.Append(0, bad, 1000, 1); !errors.Is(err, storage.ErrOutOfBounds) {
		t.Fatalf("Append of a rejected sample = %v, want inner's error", err)
	}
	app.Append(0, rtt, 2000, math.Copysign(0, -1))
	app.Append(0, zero, 0, 0) // every field at its zero value
	if r, err := app.AppendExemplar(0, rtt, exemplar.Exemplar{}); r != 7 || err != nil {
		t.Fatalf("AppendExemplar did not reach inner: %d, %v", r, err)
	}
	if err := app.Commit(); err != nil || !inner.committed {
		t.Fatalf("Commit = %v, inner committed: %v", err, inner.committed)
	}
	if len(inner.appended) != 5 {
		t.Fatalf("inner got %q", inner.appended)
	}
	if b, s, oldest := q.Pending("vm"); b != 2 || s != 5 || oldest.IsZero() {
		t.Fatalf("Pending = %d batches, %d samples, oldest %v; want 2, 5, set", b, s, oldest)
	}
	if _, err := app.Append(0, rtt, 4000, 1); err == nil {
		t.Fatal("Append after Commit succeeded")
	}

	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	reqs, _ := rcv.snapshot()
	// Grouped by series in order of first appearance, sorted by time,
	// at most 3 samples per request; shards may deliver in any order.
	var got []string
	for _, r := range reqs {
		got = append(got, fmt.Sprint(r.series))
		for k, want := range map[string]string{
			"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
			"X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "pantau-collector/test",
			"X-Scope-Orgid": "pemda",
		} {
			if v := r.header.Get(k); v != want {
				t.Errorf("header %s = %q, want %q", k, v, want)
			}
		}
	}
	slices.Sort(got)
	want := []string{
		`[{{__name__="icmp_loss_ratio", target="10.0.0.1"} [{1000 0}]} {{__name__="zero"} [{0 0}]}]`,
		`[{{__name__="icmp_rtt_seconds", target="10.0.0.1"} [{1000 0.001} {2000 -0} {3000 0.003}]}]`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := rcv.merged()[rtt.String()]; math.Signbit(s[1].V) != true {
		t.Fatalf("-0 lost its sign: %v", s)
	}
}

func TestTeeWithoutInner(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}})
	app := q.Appender(nil)
	l := labels.FromStrings("__name__", "snmp_if_in_bits_per_second", "ifname", "ge-0/0/1", "site", "opd-01")
	want := map[string][]point{l.String(): nil}
	for i := range 25 {
		ts := 1_764_000_000_000 + int64(i%5)*60_000 - int64(i/5)*1000 // shuffled in time
		ref, err := app.Append(storage.SeriesRef(i), l, ts, float64(i)*1.5e6)
		if err != nil || ref != 0 {
			t.Fatalf("Append = %d, %v; want 0, nil", ref, err)
		}
		want[l.String()] = append(want[l.String()], point{ts, float64(i) * 1.5e6})
	}
	if _, err := app.Append(0, labels.EmptyLabels(), 1, 1); err == nil {
		t.Fatal("a sample without labels was accepted")
	}
	if _, err := app.AppendHistogram(0, l, 1, nil, nil); !errors.Is(err, ErrHistogramsNotSupported) {
		t.Fatalf("AppendHistogram = %v", err)
	}
	if r, err := app.AppendExemplar(0, l, exemplar.Exemplar{}); r != 0 || err != nil {
		t.Fatalf("AppendExemplar = %d, %v; want a no-op", r, err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	got := rcv.merged()
	if len(got) != 1 || !equalPoints(got[l.String()], sortedPoints(want[l.String()])) {
		t.Fatalf("received %v\nwant %v", got, want)
	}
	reqs, _ := rcv.snapshot()
	if len(reqs) != 1 || len(reqs[0].series) != 1 {
		t.Fatalf("want one request with one series, got %v", reqs)
	}
}

// samplesFor builds n samples of one series.
func samplesFor(name string, from, n int) map[string][]point {
	var p []point
	for i := range n {
		p = append(p, point{T: 1_764_000_000_000 + int64(from+i)*15_000, V: float64(from+i) / 4})
	}
	return map[string][]point{name: p}
}

func TestServerErrorThenDeliveredOnce(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.setRespond(func(n int, _ []series) (int, http.Header, string) {
		if n < 5 {
			return http.StatusServiceUnavailable, nil, "overloaded"
		}
		return http.StatusOK, nil, ""
	})
	var logs logBuffer
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}, Logger: logs.logger()})
	in := samplesFor(`m{a="1"}`, 0, 10)
	write(t, q, in)
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	reqs, _ := rcv.snapshot()
	if len(reqs) != 6 {
		t.Fatalf("%d requests, want 5 failed and 1 accepted", len(reqs))
	}
	got := rcv.merged()[`{__name__="m", a="1"}`]
	if !equalPoints(got, in[`m{a="1"}`]) {
		t.Fatalf("received %v (each sample exactly once expected)", got)
	}
	reqM, samplesM := q.m.requests, q.m.samples
	if v := testutil.ToFloat64(reqM.WithLabelValues("vm", "503")); v != 5 {
		t.Errorf("requests{code=503} = %g", v)
	}
	if v := testutil.ToFloat64(reqM.WithLabelValues("vm", "200")); v != 1 {
		t.Errorf("requests{code=200} = %g", v)
	}
	if v := testutil.ToFloat64(samplesM.WithLabelValues("vm", "sent")); v != 10 {
		t.Errorf("samples{result=sent} = %g", v)
	}
	out := logs.String()
	if n := strings.Count(out, "remote-write endpoint failing"); n != 1 {
		t.Errorf("failure logged %d times, want once per state change:\n%s", n, out)
	}
	if n := strings.Count(out, "remote-write endpoint recovered"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "endpoint=vm") || !strings.Contains(out, "response=overloaded") {
		t.Errorf("the failure log names neither the endpoint nor the answer:\n%s", out)
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.setRespond(func(n int, _ []series) (int, http.Header, string) {
		switch n {
		case 0:
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, "slow down"
		case 1: // an hour: capped at MaxBackoff, or the test times out
			return http.StatusTooManyRequests, http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, ""
		}
		return http.StatusNoContent, nil, ""
	})
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}},
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Second})
	write(t, q, samplesFor("m", 0, 3))
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	reqs, acc := rcv.snapshot()
	if len(reqs) != 3 || len(acc) != 1 {
		t.Fatalf("%d requests, %d accepted series; want 3 and 1", len(reqs), len(acc))
	}
	// No shard retried before the Retry-After of 1 s was over.
	if d := reqs[1].at.Sub(reqs[0].at); d < time.Second {
		t.Fatalf("retried %s after Retry-After: 1", d)
	}
}

func TestRejectedRequestDroppedOnce(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	long := "out of bounds: " + strings.Repeat("x", 1000)
	rcv.setRespond(func(_ int, s []series) (int, http.Header, string) {
		if strings.Contains(s[0].Labels, "rejected") {
			return http.StatusBadRequest, nil, long
		}
		return http.StatusOK, nil, ""
	})
	var logs logBuffer
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}, Logger: logs.logger()})
	write(t, q, samplesFor("rejected", 0, 7))
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	// The sender goes on, and the rejected request is never sent again.
	write(t, q, samplesFor("accepted", 0, 3))
	waitDrained(t, q, "vm", drainTimeout)
	reqs, acc := rcv.snapshot()
	if len(reqs) != 2 || reqs[0].code != 400 || len(acc) != 1 || acc[0].Labels != `{__name__="accepted"}` {
		t.Fatalf("requests %v", reqs)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "dropped")); v != 7 {
		t.Errorf("samples{result=dropped} = %g, want 7", v)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "sent")); v != 3 {
		t.Errorf("samples{result=sent} = %g, want 3", v)
	}
	out := logs.String()
	if strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "out of bounds: xxx") || !strings.Contains(out, "code=400") {
		t.Errorf("want one error naming the engine's answer:\n%s", out)
	}
	if strings.Contains(out, strings.Repeat("x", maxMessage)) {
		t.Errorf("the engine's answer is not cut to %d bytes:\n%s", maxMessage, out)
	}
}

func TestReopenResendsOnlyUnacked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rcv := newReceiver(t)
	q := openQueue(t, Options{Dir: dir, Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}})
	write(t, q, samplesFor("first", 0, 5))
	stop := run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	stop()
	rcv.setRespond(func(int, []series) (int, http.Header, string) { return http.StatusBadGateway, nil, "" })
	second := samplesFor("second", 0, 5)
	write(t, q, second)
	stop = run(t, q)
	waitFor(t, drainTimeout, "an attempt to send the second batch", func() bool {
		reqs, _ := rcv.snapshot()
		return len(reqs) >= 2
	})
	stop()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}

	rcv2 := newReceiver(t)
	q2 := openQueue(t, Options{Dir: dir, Endpoints: []Endpoint{{Name: "vm", URL: rcv2.url()}}})
	if b, s, oldest := q2.Pending("vm"); b != 1 || s != 5 || oldest.IsZero() {
		t.Fatalf("Pending after reopen = %d batches, %d samples, oldest %v; want 1, 5", b, s, oldest)
	}
	run(t, q2)
	waitDrained(t, q2, "vm", drainTimeout)
	got := rcv2.merged()
	if len(got) != 1 || !equalPoints(got[`{__name__="second"}`], second["second"]) {
		t.Fatalf("after reopen received %v; want only the unacknowledged batch", got)
	}
}

func TestEndpointsHaveTheirOwnCursor(t *testing.T) {
	t.Parallel()
	a, b := newReceiver(t), newReceiver(t)
	b.setRespond(func(int, []series) (int, http.Header, string) { return http.StatusServiceUnavailable, nil, "" })
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "a", URL: a.url()}, {Name: "b", URL: b.url(), Shards: 1}}})
	want := map[string][]point{}
	for i := range 3 {
		in := samplesFor(fmt.Sprintf("m%d", i), i*10, 10)
		write(t, q, in)
		for k, v := range in {
			want[fmt.Sprintf(`{__name__=%q}`, k)] = v
		}
	}
	run(t, q)
	waitDrained(t, q, "a", drainTimeout)
	if n, s, _ := q.Pending("b"); n != 3 || s != 30 {
		t.Fatalf("endpoint b: %d batches, %d samples pending; want 3, 30", n, s)
	}
	b.setRespond(nil)
	waitDrained(t, q, "b", drainTimeout)
	for name, r := range map[string]*receiver{"a": a, "b": b} {
		got := r.merged()
		if len(got) != len(want) {
			t.Fatalf("endpoint %s got %v", name, got)
		}
		for k, v := range want {
			if !equalPoints(got[k], v) {
				t.Errorf("endpoint %s: %s = %v, want %v", name, k, got[k], v)
			}
		}
	}
}

func TestQueueBoundsDropOldestAndCount(t *testing.T) {
	t.Parallel()
	t.Run("bytes", func(t *testing.T) {
		rcv := newReceiver(t)
		q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}, MaxBytes: 1000})
		for i := range 20 {
			write(t, q, samplesFor(fmt.Sprintf("b%02d", i), 0, 10))
		}
		kept, samples, _ := q.Pending("vm")
		if kept == 0 || kept >= 20 || samples != int64(kept*10) {
			t.Fatalf("Pending = %d batches, %d samples; want some of 20 dropped", kept, samples)
		}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(q.Collectors()...)
		want := fmt.Sprintf(`
# HELP pantau_remote_write_queue_dropped_samples_total Undelivered samples deleted from the remote-write queue by its size or age bound (persisted across restarts).
# TYPE pantau_remote_write_queue_dropped_samples_total counter
pantau_remote_write_queue_dropped_samples_total %d
# HELP pantau_remote_write_queue_batches Remote-write requests queued and not yet delivered to the endpoint.
# TYPE pantau_remote_write_queue_batches gauge
pantau_remote_write_queue_batches{endpoint="vm"} %d
`, (20-kept)*10, kept)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
			"pantau_remote_write_queue_dropped_samples_total", "pantau_remote_write_queue_batches"); err != nil {
			t.Fatal(err)
		}
		run(t, q)
		waitDrained(t, q, "vm", drainTimeout)
		got := sortedKeys(rcv.merged())
		var wantNames []string
		for i := 20 - kept; i < 20; i++ {
			wantNames = append(wantNames, fmt.Sprintf(`{__name__="b%02d"}`, i))
		}
		if !slices.Equal(got, wantNames) {
			t.Fatalf("delivered %v, want the newest %d batches %v", got, kept, wantNames)
		}
	})
	t.Run("age", func(t *testing.T) {
		q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: "http://127.0.0.1:9/"}}, MaxAge: time.Millisecond})
		write(t, q, samplesFor("old", 0, 4))
		// The queue applies MaxAge every second.
		waitDrained(t, q, "vm", drainTimeout)
		if st := q.sp.Stats(); st.DroppedPoints != 4 {
			t.Fatalf("dropped %d samples, want 4", st.DroppedPoints)
		}
	})
}

// TestMetricsLint runs promtool check metrics over the exposition after
// traffic of every kind.
func TestMetricsLint(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run `make deps` (Debian package prometheus)")
	}
	rcv := newReceiver(t)
	goodTries := 0 // guarded by the receiver
	rcv.setRespond(func(_ int, s []series) (int, http.Header, string) {
		if strings.Contains(s[0].Labels, "bad") {
			return http.StatusBadRequest, nil, "bad"
		}
		if goodTries++; goodTries == 1 {
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusOK, nil, ""
	})
	// One request per write (3 samples each), so the good and the bad
	// are never joined.
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}, {Name: "down", URL: closedURL(t)}}, MaxSamplesPerRequest: 3})
	write(t, q, samplesFor("good", 0, 3))
	write(t, q, samplesFor("bad", 0, 3))
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	waitFor(t, drainTimeout, "a failed attempt on the closed port", func() bool {
		return testutil.ToFloat64(q.m.requests.WithLabelValues("down", "error")) > 0
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(q.Collectors()...)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	expo := rec.Body.String()
	for _, want := range []string{
		`pantau_remote_write_samples_total{endpoint="vm",result="sent"} 3`,
		`pantau_remote_write_samples_total{endpoint="vm",result="dropped"} 3`,
		`pantau_remote_write_samples_total{endpoint="down",result="sent"} 0`,
		`pantau_remote_write_requests_total{code="503",endpoint="vm"} 1`,
		`pantau_remote_write_requests_total{code="400",endpoint="vm"} 1`,
		`pantau_remote_write_requests_total{code="error",endpoint="down"}`,
		`pantau_remote_write_request_duration_seconds_bucket{endpoint="vm",le="+Inf"} 3`,
		`pantau_remote_write_queue_batches{endpoint="vm"} 0`,
		`pantau_remote_write_queue_batches{endpoint="down"} 2`,
		`pantau_remote_write_queue_samples{endpoint="down"} 6`,
		`pantau_remote_write_queue_oldest_age_seconds{endpoint="down"}`,
		`pantau_remote_write_queue_bytes `,
		`pantau_remote_write_queue_dropped_samples_total 0`,
	} {
		if !strings.Contains(expo, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(expo)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s\n%s", err, out, expo)
	}
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/api/v1/write"
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	const token, password = "tok-3f9a1c77e2", "pw-8b2d6e01aa"
	rcv := newReceiver(t)
	rcv.setRespond(func(n int, s []series) (int, http.Header, string) {
		if n < 2 {
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusUnauthorized, nil, "who are you"
	})
	var logs logBuffer
	q := openQueue(t, Options{Logger: logs.logger(), Endpoints: []Endpoint{
		{Name: "bearer", URL: rcv.url(), BearerToken: token},
		{Name: "basic", URL: rcv.url(), BasicUser: "pantau", BasicPassword: password},
		{Name: "down", URL: closedURL(t), BearerToken: token},
	}})
	write(t, q, samplesFor("m", 0, 1))
	run(t, q)
	waitDrained(t, q, "bearer", drainTimeout)
	waitDrained(t, q, "basic", drainTimeout)
	waitFor(t, drainTimeout, "a failed attempt on the closed port", func() bool {
		return strings.Contains(logs.String(), "endpoint=down")
	})
	reqs, _ := rcv.snapshot()
	auth := map[string]bool{}
	for _, r := range reqs {
		auth[r.header.Get("Authorization")] = true
	}
	if !auth["Bearer "+token] || !auth["Basic cGFudGF1OnB3LThiMmQ2ZTAxYWE="] {
		t.Errorf("Authorization headers sent: %v", auth)
	}
	_, err := Open(Options{Dir: t.TempDir(), Logger: logs.logger(), Endpoints: []Endpoint{
		{Name: "x", URL: "http://127.0.0.1:1/", BearerToken: token, BasicUser: "u", BasicPassword: password},
	}})
	if err == nil {
		t.Fatal("bearer token and basic auth together were accepted")
	}
	ep := Endpoint{Name: "x", URL: "http://127.0.0.1:1/", BearerToken: token, BasicPassword: password}
	logs.logger().Info("endpoint", "endpoint", ep)
	printed := fmt.Sprintf("%v %+v %#v %s", ep, ep, ep, ep)
	for _, s := range []string{logs.String(), err.Error(), printed} {
		if strings.Contains(s, token) || strings.Contains(s, password) {
			t.Fatalf("a secret leaked:\n%s", s)
		}
	}
}

func TestOpenValidation(t *testing.T) {
	t.Parallel()
	ok := Endpoint{Name: "vm", URL: "http://127.0.0.1:8428/api/v1/write"}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"no endpoints", Options{}, "endpoints: at least one endpoint is required"},
		{"bad name", Options{Endpoints: []Endpoint{{Name: "VM 1", URL: ok.URL}}}, `endpoints[0].name: must match [a-z0-9_-]+ (got "VM 1")`},
		{"duplicate", Options{Endpoints: []Endpoint{ok, ok}}, `endpoints[1].name: "vm" is used by another endpoint`},
		{"relative URL", Options{Endpoints: []Endpoint{{Name: "vm", URL: "/api/v1/write"}}}, "endpoints[0].url: must be an absolute http:// or https:// URL"},
		{"credentials in URL", Options{Endpoints: []Endpoint{{Name: "vm", URL: "http://u:secret@127.0.0.1/"}}}, "endpoints[0].url: must not contain credentials"},
		{"reserved header", Options{Endpoints: []Endpoint{{Name: "vm", URL: ok.URL, Headers: map[string]string{"Content-Type": "x"}}}}, "endpoints[0].headers: Content-Type is set by the client"},
		{"bad header", Options{Endpoints: []Endpoint{{Name: "vm", URL: ok.URL, Headers: map[string]string{"X Org": "x"}}}}, `endpoints[0].headers: "X Org" is not a valid header name`},
		{"negative shards", Options{Endpoints: []Endpoint{{Name: "vm", URL: ok.URL, Shards: -1}}}, "endpoints[0].shards: must not be negative"},
		{"backoffs", Options{Endpoints: []Endpoint{ok}, MinBackoff: time.Minute, MaxBackoff: time.Second}, "min_backoff: must not exceed max_backoff"},
		{"no logger", Options{Endpoints: []Endpoint{ok}}, "logger: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Dir = t.TempDir()
			if tc.name != "no logger" {
				o.Logger = (&logBuffer{}).logger()
			}
			_, err := Open(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks a credential: %v", err)
			}
		})
	}
}

func TestRemovedEndpointLosesItsCursor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := newReceiver(t), newReceiver(t)
	q := openQueue(t, Options{Dir: dir, Endpoints: []Endpoint{{Name: "a", URL: a.url()}, {Name: "b", URL: b.url()}}})
	write(t, q, samplesFor("m", 0, 2))
	stop := run(t, q)
	waitDrained(t, q, "a", drainTimeout)
	waitDrained(t, q, "b", drainTimeout)
	stop()
	q.Close()
	if _, err := os.Stat(filepath.Join(dir, "cursors", "b")); err != nil {
		t.Fatal(err)
	}
	q2 := openQueue(t, Options{Dir: dir, Endpoints: []Endpoint{{Name: "a", URL: a.url()}}})
	if _, err := os.Stat(filepath.Join(dir, "cursors", "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cursor of the removed endpoint: %v", err)
	}
	// Nothing waits for b any more, so nothing is held for it.
	write(t, q2, samplesFor("n", 0, 2))
	run(t, q2)
	waitDrained(t, q2, "a", drainTimeout)
	if st := q2.sp.Stats(); st.Records != 0 {
		t.Fatalf("queue holds %d batches after a, the only endpoint, had them", st.Records)
	}
}

// BenchmarkAppendCommit measures the tee without inner: 5,000 samples of
// 500 series appended and committed (encoded, compressed, queued).
func BenchmarkAppendCommit(b *testing.B) {
	q, err := Open(Options{Dir: b.TempDir(), Logger: (&logBuffer{}).logger(), MaxBytes: 1 << 40,
		Endpoints: []Endpoint{{Name: "vm", URL: "http://127.0.0.1:9/api/v1/write"}}})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	series := make([]labels.Labels, 500)
	for i := range series {
		series[i] = labels.FromStrings("__name__", "icmp_rtt_seconds", "agent", "agent-01", "site", fmt.Sprintf("opd-%03d", i), "target", fmt.Sprintf("10.0.%d.%d", i/250, i%250))
	}
	ts := int64(1_764_000_000_000)
	b.ReportAllocs()
	for b.Loop() {
		app := q.Appender(nil)
		for i := range 5000 {
			ts++
			if _, err := app.Append(0, series[i%500], ts, 0.003+float64(i%7)/1000); err != nil {
				b.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*5000/b.Elapsed().Seconds(), "samples/s")
}

// A redirect that keeps the POST (307, 308) is followed; one that would
// turn it into a GET (301, 302, 303) is retried, never dropped.
func TestRedirects(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	redirect := func(code int) string {
		srv := httptest.NewServer(http.RedirectHandler(rcv.url(), code))
		t.Cleanup(srv.Close)
		return srv.URL + "/api/v1/write"
	}
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "moved", URL: redirect(http.StatusPermanentRedirect)},
		{Name: "get", URL: redirect(http.StatusMovedPermanently)}}})
	write(t, q, samplesFor("m", 0, 4))
	run(t, q)
	waitDrained(t, q, "moved", drainTimeout)
	waitFor(t, drainTimeout, "a retried 301", func() bool {
		return testutil.ToFloat64(q.m.requests.WithLabelValues("get", "301")) >= 2
	})
	if b, _, _ := q.Pending("get"); b != 1 {
		t.Fatalf("the 301'd batch is no longer queued (%d pending)", b)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("get", "dropped")); v != 0 {
		t.Fatalf("%g samples dropped after a 301", v)
	}
	if got := rcv.merged(); len(got) != 1 || len(got[`{__name__="m"}`]) != 4 {
		t.Fatalf("received %v through the 308", got)
	}
}

// Batches queued while the sender was away go out joined, up to
// MaxSamplesPerRequest samples a request, in queue order.
func TestBatchesJoinedIntoRequests(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		max  int
		want [][]string // series of each request
	}{
		{0, [][]string{{"a", "b", "c", "d", "e"}}}, // the default, 2000
		{5, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		{3, [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}},
	} {
		t.Run(fmt.Sprint(c.max), func(t *testing.T) {
			rcv := newReceiver(t)
			q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url(), Shards: 1}}, MaxSamplesPerRequest: c.max})
			for i, name := range []string{"a", "b", "c", "d", "e"} {
				write(t, q, samplesFor(name, 2*i, 2))
			}
			run(t, q)
			waitDrained(t, q, "vm", drainTimeout)
			reqs, _ := rcv.snapshot()
			var got [][]string
			for _, r := range reqs {
				var names []string
				for _, s := range r.series {
					names = append(names, strings.TrimSuffix(strings.TrimPrefix(s.Labels, `{__name__="`), `"}`))
				}
				got = append(got, names)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("requests carried %v, want %v", got, c.want)
			}
			for i, name := range []string{"a", "b", "c", "d", "e"} {
				if !slices.Equal(rcv.merged()[`{__name__="`+name+`"}`], samplesFor(name, 2*i, 2)[name]) {
					t.Errorf("%s: got %v", name, rcv.merged()[`{__name__="`+name+`"}`])
				}
			}
			if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "sent")); v != 10 {
				t.Errorf("samples{result=sent} = %g, want 10", v)
			}
		})
	}
}

// A joined request the engine refuses for good is sent again one batch a
// request, so only the batch it refuses is dropped.
func TestJoinedRequestRejectedSentOneByOne(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.setRespond(func(_ int, s []series) (int, http.Header, string) {
		for _, x := range s {
			if strings.Contains(x.Labels, "bad") {
				return http.StatusBadRequest, nil, "out of bounds"
			}
		}
		return http.StatusOK, nil, ""
	})
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url(), Shards: 1}}})
	write(t, q, samplesFor("good1", 0, 2))
	write(t, q, samplesFor("bad", 0, 3))
	write(t, q, samplesFor("good2", 0, 4))
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	reqs, acc := rcv.snapshot()
	var got []string
	for _, r := range reqs {
		got = append(got, fmt.Sprintf("%d:%d", r.code, len(r.series)))
	}
	// joined (400), then good1, bad, good2 alone
	if want := []string{"400:3", "200:1", "400:1", "200:1"}; !slices.Equal(got, want) {
		t.Fatalf("requests (code:series) %v, want %v", got, want)
	}
	if len(acc) != 2 || acc[0].Labels != `{__name__="good1"}` || acc[1].Labels != `{__name__="good2"}` {
		t.Fatalf("accepted %v", acc)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "sent")); v != 6 {
		t.Errorf("samples{result=sent} = %g, want 6", v)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "dropped")); v != 3 {
		t.Errorf("samples{result=dropped} = %g, want 3", v)
	}
}

// A queued batch that is not valid snappy cannot be joined: the batches
// go one a request, and the engine refuses only that one.
func TestUndecodableBatchSentAlone(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		s, err := decodeWriteRequest(body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			got = append(got, "undecodable")
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, fmt.Sprint(len(s)))
	}))
	t.Cleanup(srv.Close)
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: srv.URL, Shards: 1}}})
	write(t, q, samplesFor("good1", 0, 2))
	if _, err := q.sp.Append(context.Background(), []byte("not snappy"), 1); err != nil {
		t.Fatal(err)
	}
	write(t, q, samplesFor("good2", 0, 2))
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"1", "undecodable", "1"}; !slices.Equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	if v := testutil.ToFloat64(q.m.samples.WithLabelValues("vm", "dropped")); v != 1 {
		t.Errorf("samples{result=dropped} = %g, want 1", v)
	}
}

// Writes that arrive within BatchWait of each other go out in one request,
// about BatchWait after the first.
func TestBatchWaitJoinsSteadyWrites(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	q := openQueue(t, Options{Endpoints: []Endpoint{{Name: "vm", URL: rcv.url(), Shards: 1}}, BatchWait: 2 * time.Second})
	run(t, q)
	start := time.Now()
	for i, name := range []string{"a", "b", "c"} {
		write(t, q, samplesFor(name, 0, 2))
		if i < 2 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitDrained(t, q, "vm", drainTimeout)
	reqs, _ := rcv.snapshot()
	if len(reqs) != 1 || len(reqs[0].series) != 3 {
		t.Fatalf("%d requests (%v), want one with 3 series", len(reqs), reqs)
	}
	if d := reqs[0].at.Sub(start); d < 2*time.Second {
		t.Errorf("sent %v after the first write, before BatchWait", d)
	}
}

// TestGateBackoff: the endpoint's gate waits internal/retry's full jitter
// after each failed round (pinned here), lengthens it once per round
// however many shards fail in it, honours Retry-After up to MaxBackoff,
// and starts again from MinBackoff after a success.
func TestGateBackoff(t *testing.T) {
	t.Parallel()
	top := func(n int64) int64 { return n - 1 }
	g := gate{backoff: retry.Backoff{Min: time.Second, Max: 4 * time.Second, Rand: top}}
	// fail reports the wait the gate set: between the times around the call.
	fail := func(epoch uint64, retryAfter, want time.Duration) {
		t.Helper()
		g.until = time.Time{}
		before := time.Now()
		g.fail(epoch, retryAfter)
		after := time.Now()
		if g.until.Before(before.Add(want)) || g.until.After(after.Add(want)) {
			t.Errorf("round %d, Retry-After %s: gate closed for %s, want %s", epoch, retryAfter, g.until.Sub(before), want)
		}
	}
	fail(0, 0, time.Second)   // first failed round: Min
	fail(0, 0, 0)             // a shard of the same round: no longer
	fail(1, 0, 2*time.Second) // top of [1s, 2s]
	fail(2, 0, 4*time.Second) // top of [1s, 4s]
	fail(3, 0, 4*time.Second) // capped at Max
	fail(4, 3*time.Second, 4*time.Second)
	g.ok()
	g.backoff.Rand = func(int64) int64 { return 0 }
	fail(5, 0, time.Second)               // from Min again after a success
	fail(6, 3*time.Second, 3*time.Second) // Retry-After beyond the backoff (bottom: 1s)
	fail(7, time.Hour, 4*time.Second)     // Retry-After capped at Max
	fail(7, 3*time.Second, 3*time.Second) // Retry-After holds shards of a past round too
}
