// Package demosim simulates what the demo's agent probes: SNMP devices
// (an SNMPv2c responder on a loopback UDP port) and the Pemda's public
// services (web portal, e-office, mail) on loopback.
package demosim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// MIB returns the objects of one simulated device at now, in any order.
type MIB func(now time.Time) []gosnmp.SnmpPDU

// maxVarbinds bounds one response, so it fits a UDP datagram.
const maxVarbinds = 1000

// Agent answers SNMPv1/v2c Get, GetNext and GetBulk requests for
// simulated devices, one per community, on a UDP socket.
type Agent struct {
	conn    *net.UDPConn
	devices map[string]MIB
	log     *slog.Logger

	mu    sync.Mutex
	cache map[string]snapshot // community → objects of the current second
}

type snapshot struct {
	at   int64 // unix second
	vars []entry
}

type entry struct {
	oid []uint32
	pdu gosnmp.SnmpPDU
}

// Listen opens the agent's socket at addr (such as 127.0.0.1:0).
func Listen(addr string, devices map[string]MIB, log *slog.Logger) (*Agent, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulated SNMP agent address %s: %w", addr, err)
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("simulated SNMP agent: listen on %s: %w", addr, err)
	}
	return &Agent{conn: c, devices: devices, log: log, cache: map[string]snapshot{}}, nil
}

// Addr is the address the agent answers on.
func (a *Agent) Addr() string { return a.conn.LocalAddr().String() }

// Serve answers requests until ctx ends.
func (a *Agent) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { a.conn.Close() })
	defer stop()
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Logger: gosnmp.NewLogger(nil)}
	buf := make([]byte, 65535)
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("simulated SNMP agent: read: %w", err)
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil {
			a.log.Debug("simulated SNMP agent: undecodable request", "from", from, "err", err)
			continue
		}
		resp, ok := a.answer(req, time.Now())
		if !ok {
			continue // unknown community or version: a real agent stays silent
		}
		out, err := resp.MarshalMsg()
		if err != nil {
			a.log.Warn("simulated SNMP agent: encode response", "err", err)
			continue
		}
		if _, err := a.conn.WriteToUDP(out, from); err != nil && ctx.Err() == nil {
			a.log.Debug("simulated SNMP agent: write", "to", from, "err", err)
		}
	}
}

// answer builds the response to one request.
func (a *Agent) answer(req *gosnmp.SnmpPacket, now time.Time) (*gosnmp.SnmpPacket, bool) {
	if req.Version != gosnmp.Version2c && req.Version != gosnmp.Version1 {
		return nil, false
	}
	vars, ok := a.objects(req.Community, now)
	if !ok {
		return nil, false
	}
	resp := &gosnmp.SnmpPacket{Version: req.Version, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
	switch req.PDUType {
	case gosnmp.GetRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, get(vars, v.Name))
		}
	case gosnmp.GetNextRequest:
		for _, v := range req.Variables {
			resp.Variables = append(resp.Variables, next(vars, parseOID(v.Name)))
		}
	case gosnmp.GetBulkRequest:
		nonRep := min(int(req.NonRepeaters), len(req.Variables))
		for _, v := range req.Variables[:nonRep] {
			resp.Variables = append(resp.Variables, next(vars, parseOID(v.Name)))
		}
		reps := req.Variables[nonRep:]
		cursors := make([][]uint32, len(reps))
		for i, v := range reps {
			cursors[i] = parseOID(v.Name)
		}
		for r := 0; r < int(req.MaxRepetitions) && len(reps) > 0; r++ {
			if len(resp.Variables)+len(reps) > maxVarbinds {
				break
			}
			done := true
			for i := range reps {
				p := next(vars, cursors[i])
				resp.Variables = append(resp.Variables, p)
				if p.Type != gosnmp.EndOfMibView {
					cursors[i] = parseOID(p.Name)
					done = false
				}
			}
			if done {
				break
			}
		}
	default:
		resp.Error = gosnmp.GenErr
	}
	return resp, true
}

// objects returns a device's objects sorted by OID, built once a second.
func (a *Agent) objects(community string, now time.Time) ([]entry, bool) {
	mib, ok := a.devices[community]
	if !ok {
		return nil, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.cache[community]; ok && s.at == now.Unix() {
		return s.vars, true
	}
	pdus := mib(now)
	vars := make([]entry, len(pdus))
	for i, p := range pdus {
		p.Name = "." + strings.TrimPrefix(p.Name, ".")
		vars[i] = entry{oid: parseOID(p.Name), pdu: p}
	}
	slices.SortFunc(vars, func(x, y entry) int { return slices.Compare(x.oid, y.oid) })
	a.cache[community] = snapshot{at: now.Unix(), vars: vars}
	return vars, true
}

func get(vars []entry, name string) gosnmp.SnmpPDU {
	oid := parseOID(name)
	i, found := slices.BinarySearchFunc(vars, oid, func(e entry, o []uint32) int { return slices.Compare(e.oid, o) })
	if found {
		return vars[i].pdu
	}
	return gosnmp.SnmpPDU{Name: name, Type: gosnmp.NoSuchObject}
}

func next(vars []entry, oid []uint32) gosnmp.SnmpPDU {
	i, found := slices.BinarySearchFunc(vars, oid, func(e entry, o []uint32) int { return slices.Compare(e.oid, o) })
	if found {
		i++
	}
	if i >= len(vars) {
		return gosnmp.SnmpPDU{Name: formatOID(oid), Type: gosnmp.EndOfMibView}
	}
	return vars[i].pdu
}

func parseOID(s string) []uint32 {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ".")
	out := make([]uint32, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return out
		}
		out = append(out, uint32(v))
	}
	return out
}

func formatOID(o []uint32) string {
	var b strings.Builder
	for _, v := range o {
		b.WriteByte('.')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}
