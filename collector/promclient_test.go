package collector

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/klauspost/compress/snappy"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// readUp is a remote read request (snappy-compressed prompb.ReadRequest)
// for pantau_icmp_up over the last hour and the next one.
var readUp = func() string {
	now := time.Now()
	b, err := proto.Marshal(&prompb.ReadRequest{Queries: []*prompb.Query{{
		StartTimestampMs: now.Add(-time.Hour).UnixMilli(), EndTimestampMs: now.Add(time.Hour).UnixMilli(),
		Matchers: []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "pantau_icmp_up"}},
	}}})
	if err != nil {
		panic(err)
	}
	return string(snappy.Encode(nil, b))
}()

// federatedSeries parses a /federate answer (text format) into the
// label sets of its samples.
func federatedSeries(t *testing.T, res *http.Response) []map[string]string {
	t.Helper()
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("/federate: %d %s", res.StatusCode, b)
	}
	var out []map[string]string
	dec := expfmt.NewDecoder(res.Body, expfmt.Format(res.Header.Get("Content-Type")))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("/federate answer: %v", err)
		}
		for _, m := range mf.GetMetric() {
			ls := map[string]string{"__name__": mf.GetName()}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			out = append(out, ls)
		}
	}
}

// remoteReadSeries decodes a remote read answer into the label sets of
// its series (all queries).
func remoteReadSeries(t *testing.T, res *http.Response) []map[string]string {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/api/v1/read: %d %s", res.StatusCode, b)
	}
	raw, err := snappy.Decode(nil, b)
	if err != nil {
		t.Fatalf("/api/v1/read answer: %v", err)
	}
	var rr prompb.ReadResponse
	if err := proto.Unmarshal(raw, &rr); err != nil {
		t.Fatalf("/api/v1/read answer: %v", err)
	}
	var out []map[string]string
	for _, q := range rr.Results {
		for _, ts := range q.Timeseries {
			out = append(out, ts.ToLabels(&labels.ScratchBuilder{}, nil).Map())
		}
	}
	return out
}
