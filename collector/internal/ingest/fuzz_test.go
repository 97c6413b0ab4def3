package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/wire/lineproto"
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
		_, aerr := e.h.store(context.Background(), id, body, lineproto.Nanosecond)
		if aerr != nil && aerr.status != 422 {
			if after := len(e.samplesFor(t)); after != before {
				t.Fatalf("rejected body (%v) changed the store: %d -> %d samples", aerr, before, after)
			}
		}
	})
}
