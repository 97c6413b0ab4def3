package ingest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
	"github.com/pantau-noc/pantau/internal/wire/schema"
)

// FuzzStore feeds arbitrary bodies through decode, checks and append. It
// must never panic, and a rejected body must leave the store unchanged.
func FuzzStore(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.lp")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("icmp,site=dinkes,target=t up=1i,loss_ratio=0.5 1795514400000000000\nm s=\"x\" 1795514400000000000"))
	f.Add([]byte("icmp,agent=agent-noc,__x=1 up=1i\nm,a.b=1,a_b=2 v=1"))
	f.Add([]byte("snmp_if receive_bytes_total=-1i 1\n"))
	e := newEnv(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(e.samplesFor(t))
		id := statedb.Identity{Agent: "agent-dinkes", Sites: []string{"dinkes"}}
		_, aerr := e.h.store(context.Background(), e.h.lim.Load(), id, body, lineproto.Nanosecond)
		if aerr != nil && aerr.status != 422 {
			if after := len(e.samplesFor(t)); after != before {
				t.Fatalf("rejected body (%v) changed the store: %d -> %d samples", aerr, before, after)
			}
		}
	})
}

// FuzzNames: the checks on raw names agree with the names the TSDB gets
// (schema.MetricName and schema.LabelName): lengths, labels starting
// with __, and measurements whose series would be the collector's own.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"collector.ingest", "._tmp", "__name__", "1abc", "remote", "remote-write", "links", "link", "é", "_", ".", "a b"} {
		f.Add(s, "requests_total")
	}
	f.Fuzz(func(t *testing.T, name, field string) {
		if name == "" {
			return
		}
		ln := schema.LabelName(name)
		if got := labelNameLen([]byte(name)); got != len(ln) {
			t.Fatalf("labelNameLen(%q) = %d, LabelName is %q", name, got, ln)
		}
		if got, want := reservedLabel([]byte(name)), strings.HasPrefix(ln, "__"); got != want {
			t.Fatalf("reservedLabel(%q) = %v, LabelName is %q", name, got, ln)
		}
		metric := schema.MetricName(name, field)
		own := ""
		for _, r := range reservedPrefixes {
			if strings.HasPrefix(metric, schema.MetricPrefix+r+"_") && (len(name) == len(r) || len(name) > len(r) && metric[len(schema.MetricPrefix)+len(r)] == '_') {
				own = r
			}
		}
		if strings.HasPrefix(metric, "pantau_collector_") || strings.HasPrefix(metric, "pantau_remote_") {
			if reservedMeasurement([]byte(name)) == "" {
				t.Fatalf("measurement %q field %q becomes %s, not refused", name, field, metric)
			}
		}
		if got := reservedMeasurement([]byte(name)); (got != "") != (own != "") {
			t.Fatalf("reservedMeasurement(%q) = %q; series %s", name, got, metric)
		}
	})
}

// FuzzTokenIDAndSource: the log fields taken from a request never panic,
// a token id is only ever the token's public part, and a source is
// bounded by the address it came from.
func FuzzTokenIDAndSource(f *testing.F) {
	f.Add("pantau_abcdefghijkl2345_"+strings.Repeat("a", 52), "127.0.0.1:80")
	f.Add("Token x", "[2001:db8::1]:443")
	f.Add("pantau__", "[::ffff:1.2.3.4]:1")
	f.Fuzz(func(t *testing.T, tok, remote string) {
		if id := tokenID(tok); id != "" && (len(id) != 16 || !strings.HasPrefix(tok, "pantau_"+id+"_")) {
			t.Fatalf("tokenID(%q) = %q", tok, id)
		}
		if s := sourceOf(&http.Request{RemoteAddr: remote}); len(s) > len(remote)+4 {
			t.Fatalf("sourceOf(%q) = %q", remote, s)
		}
	})
}
