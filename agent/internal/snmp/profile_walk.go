package snmp

import (
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// walkOIDs reads the columns cols of every profile table together, in
// lockstep, as bulkColumns does for IF-MIB: each GETBULK carries one
// varbind per column not yet finished, so a device whose tables have a
// few rows answers all of them in one or two requests instead of one walk
// (a request, on a VSAT link most of a second) per column. A column ends
// at the first name outside it, at endOfMibView, or after maxProfileRows
// values. v1 walks the columns one at a time with GETNEXT; so does a
// device that refuses a GETBULK of several columns.
func (p *Poller) walkOIDs(cols []string) (map[string][]gosnmp.SnmpPDU, error) {
	out := make(map[string][]gosnmp.SnmpPDU, len(cols))
	walkEach := func(cols []string) error {
		for _, c := range cols {
			pdus, err := p.walk(c)
			if err != nil {
				return fmt.Errorf("walk %s: %w", c, err)
			}
			if len(pdus) > maxProfileRows {
				pdus = pdus[:maxProfileRows]
			}
			out[c] = pdus
		}
		return nil
	}
	if p.t.Version == "1" {
		return out, walkEach(cols)
	}
	type walk struct{ base, last string }
	active := make([]walk, 0, len(cols))
	for _, c := range cols {
		active = append(active, walk{c, c})
	}
	rowsCap, widthCap := p.t.MaxRepetitions, len(active)
	oids := make([]string, 0, len(cols))
	for len(active) > 0 {
		req := active[:min(widthCap, len(active))]
		oids = oids[:0]
		for _, w := range req {
			oids = append(oids, w.last)
		}
		rows := min(rowsCap, bulkRows(p.t.MaxRepetitions, len(req)))
		pkt, err := p.g.GetBulk(oids, 0, rows)
		if err != nil {
			return out, fmt.Errorf("getbulk %s: %w", req[0].base, err)
		}
		if pkt.Error == gosnmp.TooBig {
			switch {
			case rows > 1:
				rowsCap = rows / 2
				continue
			case len(req) > 1:
				widthCap = len(req) / 2
				continue
			}
		}
		if pkt.Error != gosnmp.NoError || len(pkt.Variables) == 0 {
			p.log.Debug("device refused a GETBULK of several profile columns; walking them one at a time",
				"error", pkt.Error, "columns", len(req), "rows", rows)
			var left []string
			for _, w := range active {
				left = append(left, w.base)
				delete(out, w.base)
			}
			return out, walkEach(left)
		}
		done := make([]bool, len(req))
		for i, v := range pkt.Variables {
			k := i % len(req)
			if done[k] {
				continue
			}
			w := &req[k]
			name := normOID(v.Name)
			if v.Type == gosnmp.EndOfMibView || name == w.base || !oidHasPrefix(name, w.base) {
				done[k] = true
				continue
			}
			if !oidLess(w.last, name) {
				return out, fmt.Errorf("walk %s: OID not increasing: %s after %s", w.base, name, w.last)
			}
			w.last = name
			out[w.base] = append(out[w.base], v)
			if len(out[w.base]) >= maxProfileRows {
				done[k] = true
			}
		}
		next := active[:0]
		for k, w := range active {
			if k >= len(req) || !done[k] {
				next = append(next, w)
			}
		}
		active = next
	}
	return out, nil
}
