package remotewrite

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// The tests decode requests with the generic protobuf runtime from a
// descriptor of prompb's messages (field numbers as in prompb/types.proto
// and remote.proto), independently of the hand-written encoder.
var writeRequestDesc = func() protoreflect.MessageDescriptor {
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, msg string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String(name)}
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if msg != "" {
			f.TypeName = proto.String(".prometheus." + msg)
		}
		return f
	}
	const (
		msgT    = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		stringT = descriptorpb.FieldDescriptorProto_TYPE_STRING
		doubleT = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		int64T  = descriptorpb.FieldDescriptorProto_TYPE_INT64
	)
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("remotewrite_test.proto"), Package: proto.String("prometheus"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("WriteRequest"), Field: []*descriptorpb.FieldDescriptorProto{field("timeseries", 1, msgT, true, "TimeSeries")}},
			{Name: proto.String("TimeSeries"), Field: []*descriptorpb.FieldDescriptorProto{
				field("labels", 1, msgT, true, "Label"), field("samples", 2, msgT, true, "Sample")}},
			{Name: proto.String("Label"), Field: []*descriptorpb.FieldDescriptorProto{field("name", 1, stringT, false, ""), field("value", 2, stringT, false, "")}},
			{Name: proto.String("Sample"), Field: []*descriptorpb.FieldDescriptorProto{field("value", 1, doubleT, false, ""), field("timestamp", 2, int64T, false, "")}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		panic(err)
	}
	return f.Messages().ByName("WriteRequest")
}()

// series is a decoded TimeSeries.
type series struct {
	Labels  string // labels.Labels.String() form: {__name__="m", a="b"}
	Samples []point
}

type point struct {
	T int64
	V float64
}

// decodeWriteRequest decodes a snappy-compressed WriteRequest.
func decodeWriteRequest(body []byte) ([]series, error) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return unmarshalWriteRequest(raw)
}

// unmarshalWriteRequest decodes an uncompressed WriteRequest.
func unmarshalWriteRequest(raw []byte) ([]series, error) {
	m := dynamicpb.NewMessage(writeRequestDesc)
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	tsd := writeRequestDesc.Fields().ByName("timeseries")
	var out []series
	tss := m.Get(tsd).List()
	for i := range tss.Len() {
		ts := tss.Get(i).Message()
		lsd := ts.Descriptor().Fields()
		b := labels.NewScratchBuilder(0)
		ll := ts.Get(lsd.ByName("labels")).List()
		for j := range ll.Len() {
			l := ll.Get(j).Message()
			ld := l.Descriptor().Fields()
			b.Add(l.Get(ld.ByName("name")).String(), l.Get(ld.ByName("value")).String())
		}
		s := series{Labels: b.Labels().String()}
		sl := ts.Get(lsd.ByName("samples")).List()
		for j := range sl.Len() {
			p := sl.Get(j).Message()
			pd := p.Descriptor().Fields()
			s.Samples = append(s.Samples, point{T: p.Get(pd.ByName("timestamp")).Int(), V: p.Get(pd.ByName("value")).Float()})
		}
		out = append(out, s)
	}
	return out, nil
}

// receiver is an httptest remote-write endpoint that decodes and keeps
// every request, and answers what respond says (200 when nil).
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	respond  func(n int, s []series) (code int, header http.Header, body string)
	requests []request
	accepted []series
}

type request struct {
	at     time.Time
	header http.Header
	series []series
	code   int
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/api/v1/write" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	s, err := decodeWriteRequest(body)
	if err != nil {
		r.t.Errorf("undecodable request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	code, hdr, msg := http.StatusOK, http.Header(nil), ""
	if r.respond != nil {
		code, hdr, msg = r.respond(len(r.requests), s)
	}
	r.requests = append(r.requests, request{at: time.Now(), header: req.Header.Clone(), series: s, code: code})
	if code/100 == 2 {
		r.accepted = append(r.accepted, s...)
	}
	r.mu.Unlock()
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

func (r *receiver) setRespond(f func(n int, s []series) (int, http.Header, string)) {
	r.mu.Lock()
	r.respond = f
	r.mu.Unlock()
}

func (r *receiver) snapshot() ([]request, []series) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests), slices.Clone(r.accepted)
}

// merged is what the receiver accepted, per series, sorted by time; a
// sample received twice counts twice.
func (r *receiver) merged() map[string][]point {
	_, acc := r.snapshot()
	return mergeSeries(acc)
}

func mergeSeries(ss []series) map[string][]point {
	out := map[string][]point{}
	for _, s := range ss {
		out[s.Labels] = append(out[s.Labels], s.Samples...)
	}
	for _, p := range out {
		slices.SortStableFunc(p, func(a, b point) int { return cmp.Compare(a.T, b.T) })
	}
	return out
}

// logBuffer captures a queue's log output.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openQueue opens a queue with fast backoff; Close runs at cleanup.
func openQueue(t testing.TB, o Options) *Queue {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 5 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 50 * time.Millisecond
	}
	q, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// run starts q.Run; the returned stop cancels it and waits for it.
func run(t testing.TB, q *Queue) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDrained waits until nothing waits for endpoint.
func waitDrained(t testing.TB, q *Queue, endpoint string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "the queue of "+endpoint+" to drain", func() bool {
		b, _, _ := q.Pending(endpoint)
		return b == 0
	})
}

// write appends samples through a tee appender without inner and commits.
func write(t testing.TB, q *Queue, samples map[string][]point) {
	t.Helper()
	app := q.Appender(nil)
	for _, name := range sortedKeys(samples) {
		l := parseLabels(t, name)
		for _, p := range samples[name] {
			if _, err := app.Append(0, l, p.T, p.V); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// parseLabels reads `m{a="b",c="d"}` or `{__name__="m",a="b"}`.
func parseLabels(t testing.TB, s string) labels.Labels {
	t.Helper()
	b := labels.NewScratchBuilder(0)
	name, rest, _ := strings.Cut(s, "{")
	if name != "" {
		b.Add("__name__", name)
	}
	rest = strings.TrimSuffix(rest, "}")
	for kv := range strings.SplitSeq(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("bad labels %q", s)
		}
		b.Add(k, strings.Trim(v, `"`))
	}
	b.Sort()
	return b.Labels()
}

// sortedPoints returns ps sorted by time (a copy).
func sortedPoints(ps []point) []point {
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b point) int { return cmp.Compare(a.T, b.T) })
	return out
}

func equalPoints(a, b []point) bool {
	return slices.EqualFunc(a, b, func(x, y point) bool {
		return x.T == y.T && math.Float64bits(x.V) == math.Float64bits(y.V)
	})
}

// fakeAppender is a storage.Appender that records what it accepted and
// fails where told.
type fakeAppender struct {
	failLabel  string // Append fails for series with this label name
	failCommit bool
	appended   []string
	committed  bool
	rolledBack bool
	nextRef    storage.SeriesRef
}

var _ storage.Appender = (*fakeAppender)(nil)

func (f *fakeAppender) Append(_ storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	if f.failLabel != "" && l.Has(f.failLabel) {
		return 0, storage.ErrOutOfBounds
	}
	f.appended = append(f.appended, fmt.Sprintf("%s %d %g", l, t, v))
	f.nextRef++
	return 1000 + f.nextRef, nil
}

func (f *fakeAppender) Commit() error {
	if f.failCommit {
		return errCommit
	}
	f.committed = true
	return nil
}

var errCommit = fmt.Errorf("fake commit failure")

func (f *fakeAppender) Rollback() error                   { f.rolledBack = true; return nil }
func (f *fakeAppender) SetOptions(*storage.AppendOptions) {}
func (f *fakeAppender) AppendExemplar(storage.SeriesRef, labels.Labels, exemplar.Exemplar) (storage.SeriesRef, error) {
	return 7, nil
}

func (f *fakeAppender) AppendHistogram(storage.SeriesRef, labels.Labels, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 8, nil
}

func (f *fakeAppender) AppendHistogramSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 9, nil
}

func (f *fakeAppender) UpdateMetadata(storage.SeriesRef, labels.Labels, metadata.Metadata) (storage.SeriesRef, error) {
	return 10, nil
}

func (f *fakeAppender) AppendSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64) (storage.SeriesRef, error) {
	return 11, nil
}
