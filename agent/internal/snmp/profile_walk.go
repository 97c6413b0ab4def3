package snmp

import (
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// walkOIDs reads the columns cols of every profile table together, in
// lockstep (bulkWalk), at most maxProfileRows values a column. v1 walks
// the columns one at a time with GETNEXT.
func (p *Poller) walkOIDs(cols []string) (map[string][]gosnmp.SnmpPDU, error) {
	if p.t.Version != "1" {
		return p.bulkWalk(cols, maxProfileRows)
	}
	out := make(map[string][]gosnmp.SnmpPDU, len(cols))
	for _, c := range cols {
		pdus, err := p.walk(c)
		if err != nil {
			return out, fmt.Errorf("walk %s: %w", c, err)
		}
		if len(pdus) > maxProfileRows {
			pdus = pdus[:maxProfileRows]
		}
		out[c] = pdus
	}
	return out, nil
}
