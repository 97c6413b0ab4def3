package snmp

import (
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// bulkVarbindsPerRepetition bounds one GETBULK response: a request that
// reads several columns asks for at most this many times max_repetitions
// varbinds in all (100 with the default 25, about 3 KB of Counter64s).
const bulkVarbindsPerRepetition = 4

// bulkRows is how many rows of each of n columns one GETBULK asks for:
// max_repetitions for a single column, fewer for many, at least one.
func bulkRows(maxReps uint32, n int) uint32 {
	if n <= 0 {
		return maxReps
	}
	return max(1, min(maxReps, bulkVarbindsPerRepetition*maxReps/uint32(n)))
}

// bulkColumns reads the IF-MIB columns cols in lockstep (bulkWalk) and
// parses them into rs.
func (p *Poller) bulkColumns(rs rows, cols []column) error {
	bases := make([]string, len(cols))
	for i, c := range cols {
		bases[i] = columnOID[c]
	}
	got, err := p.bulkWalk(bases, 0)
	if err != nil {
		return err
	}
	for _, c := range cols {
		parseColumn(rs, c, got[columnOID[c]])
	}
	return nil
}

// bulkWalk reads the columns bases in lockstep, the way snmptable does:
// every GETBULK carries one varbind per column not yet finished and asks
// for bulkRows rows of each, so a 60-port switch's 15 counter columns take
// about eleven requests instead of 45 (three per column walked alone, the
// last of them mostly past the column's end), and a vendor profile's
// tables of a few rows come in one or two. A column ends at the first
// name outside it, at endOfMibView or, with maxRows > 0, after maxRows
// values. A device may answer with fewer varbinds than asked to fit its
// message size: the columns it did not reach are asked again from where
// they were; one that refuses such a request gets the old walks, one
// column at a time. Not for v1 (no GETBULK).
func (p *Poller) bulkWalk(bases []string, maxRows int) (map[string][]gosnmp.SnmpPDU, error) {
	out := make(map[string][]gosnmp.SnmpPDU, len(bases))
	active := make([]bulkWalk, 0, len(bases))
	for _, b := range bases {
		active = append(active, bulkWalk{base: b, last: b})
	}
	oids := make([]string, 0, len(bases))
	rowsCap, widthCap := p.t.MaxRepetitions, len(active)
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
			// Some agents refuse rather than truncate: ask for fewer
			// rows, then for fewer columns at a time.
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
			// Some agents answer a GETBULK of several columns with an
			// error (genErr, noSuchName) or nothing where a walk of one
			// column works: walk the columns still open one at a time,
			// as before lockstep reads (gosnmp's walk ends a column
			// quietly at such an answer).
			p.log.Debug("device refused a GETBULK of several columns; walking them one at a time",
				"error", pkt.Error, "columns", len(req), "rows", rows)
			for _, w := range active {
				col, err := p.walk(w.base)
				if err != nil {
					return out, fmt.Errorf("walk %s: %w", w.base, err)
				}
				if maxRows > 0 && len(col) > maxRows {
					col = col[:maxRows]
				}
				out[w.base] = col
			}
			break
		}
		done, err := lockstep(req, pkt.Variables, out, maxRows)
		if err != nil {
			return out, err
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

// bulkWalk is one column being read by bulkWalk.
type bulkWalk struct {
	base string // the column's OID, without a leading dot
	last string // the last name read, where the next request starts
}

// lockstep files one GETBULK response under the columns req asked for:
// varbind i answers column i mod len(req). A column is done at its first
// name outside it, at endOfMibView or when it holds maxRows values (> 0);
// a name that does not follow the column's last one is an error (a
// broken agent would loop otherwise). Values go to out[base]; req's last
// names advance.
func lockstep(req []bulkWalk, vars []gosnmp.SnmpPDU, out map[string][]gosnmp.SnmpPDU, maxRows int) ([]bool, error) {
	done := make([]bool, len(req))
	if len(req) == 0 {
		return done, nil
	}
	for i, v := range vars {
		k := i % len(req)
		if done[k] {
			continue
		}
		w := &req[k]
		name := normOID(v.Name)
		base := w.base
		if v.Type == gosnmp.EndOfMibView || len(name) <= len(base) || !strings.HasPrefix(name, base) || name[len(base)] != '.' {
			done[k] = true
			continue
		}
		if !oidLess(w.last, name) {
			return done, fmt.Errorf("walk %s: OID not increasing: %s after %s", base, name, w.last)
		}
		w.last = name
		out[base] = append(out[base], v)
		if maxRows > 0 && len(out[base]) >= maxRows {
			done[k] = true
		}
	}
	return done, nil
}

// oidLess reports whether dotted OID a sorts before b, arc by arc.
func oidLess(a, b string) bool {
	a, b = normOID(a), normOID(b)
	for a != "" && b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if len(x) != len(y) { // arcs have no leading zeros
			return len(x) < len(y)
		}
		if x != y {
			return x < y
		}
	}
	return a == "" && b != ""
}
