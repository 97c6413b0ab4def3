package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/pantau-noc/pantau/agent/internal/point"
)

// metaRefresh is how often interface names, aliases and speeds are walked
// again; counters are read every poll.
const metaRefresh = 5 * time.Minute

// maxGetOids is the number of varbinds per GET request.
const maxGetOids = 40

// Poller polls one target. Each Poller has its own gosnmp client, so a
// slow or dead device never delays another. Poll must not be called
// concurrently with itself (calls are serialised).
type Poller struct {
	t   Target
	log *slog.Logger
	sel []*regexp.Regexp

	mu sync.Mutex
	g  *gosnmp.GoSNMP // nil: connect (fresh USM state) on the next poll

	// interface cache (from the last names walk)
	meta     map[uint32]*metaRow // ifDescr, ifName, ifAlias, ifSpeed, ifHighSpeed per index
	selected []uint32            // sorted
	metaAt   time.Time
	needMeta bool
	// which counter columns exist (decided on a names refresh)
	hcOctets, octets32, hcPkts, pkts32, disc bool

	hrKnown, hrPresent bool
	ramIdx             []uint32

	rates       rateTracker
	customRates map[string]customRate // custom.go's rate values

	profile *Profile // the vendor profile last used (nil: none)
	// outOfRange names the measurement.field values this device sent
	// that schema v1 refuses (warned once each, see conform)
	outOfRange map[string]bool

	requests int // requests sent (including retries), for tests and debugging
}

// NewPoller validates t and returns its poller. logger may be nil.
func NewPoller(t Target, logger *slog.Logger) (*Poller, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	t = t.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{
		t:   t,
		log: logger.With("device", t.Name, "address", t.Address),
	}
	for _, expr := range t.Interfaces {
		re, err := compileSelector(expr)
		if err != nil {
			return nil, err // cannot happen after Validate
		}
		p.sel = append(p.sel, re)
	}
	return p, nil
}

// Target returns the target with defaults applied.
func (p *Poller) Target() Target { return p.t }

// Close releases the connection.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.disconnect()
}

func (p *Poller) disconnect() error {
	if p.g == nil {
		return nil
	}
	err := p.g.Close()
	p.g = nil
	return err
}

// pollResult is what one poll gathered.
type pollResult struct {
	at        time.Time
	answered  bool
	uptime    uint64
	hasUptime bool
	sysName   string
	sysObjID  string
	cpu, mem  float64
	hasCPU    bool
	hasMem    bool
	ifPoints  []*point.Point
	profPts   []*point.Point // vendor profile points (profile.go)
}

// Poll reads the device once. It always returns the snmp_device point
// (up=0 when the device did not answer); on failure the error names the
// device. The whole poll is bounded by Target.Timeout and by ctx.
func (p *Poller) Poll(ctx context.Context) ([]*point.Point, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.t.Timeout)
	defer cancel()

	res, err := p.poll(ctx)
	if err != nil && p.t.Version == "3" && !res.answered && ctx.Err() == nil && !isTimeout(err) {
		// A v3 agent that rebooted (new engine boots/time or engine ID)
		// rejects our cached USM state: rediscover at once with a fresh client.
		p.log.Info("snmp v3 request failed; rediscovering engine", "error", err)
		_ = p.disconnect()
		res, err = p.poll(ctx)
	}
	if err != nil {
		// Whatever went wrong, start from a fresh client (and fresh USM
		// security parameters) on the next poll.
		_ = p.disconnect()
		if ctxErr := ctx.Err(); ctxErr != nil && !isTimeout(err) {
			err = fmt.Errorf("%w (%v)", err, ctxErr)
		}
		err = fmt.Errorf("snmp poll of %s (%s): %w", p.t.Name, p.t.Address, err)
		p.log.Warn("snmp poll failed", "error", err, "answered", res.answered)
	}
	if res.at.IsZero() {
		res.at = time.Now()
	}

	dev := point.New("snmp_device", res.at).TagMap(p.t.Tags).
		Tag("device", p.t.Name).Tag("sysname", res.sysName)
	up := int64(0)
	if res.answered {
		up = 1
	}
	dev.Int("up", up)
	if res.hasUptime {
		dev.Float("uptime_seconds", float64(res.uptime)/100)
	}
	dev.Float("poll_duration_seconds", time.Since(start).Seconds())
	if res.hasCPU {
		dev.Float("cpu_load_ratio", res.cpu)
	}
	if res.hasMem {
		dev.Float("memory_used_ratio", res.mem)
	}
	pts := append([]*point.Point{dev}, res.ifPoints...)
	pts = append(pts, res.profPts...)
	return p.conform(pts), err
}

// conform drops the values the collector would refuse (point.Conform):
// a device that reports a CCQ of 255 % or a battery charge of -1 loses
// that one field, not the batch its points travel in. Each such field is
// warned about once per device; points left without fields are dropped.
func (p *Poller) conform(pts []*point.Point) []*point.Point {
	out := pts[:0]
	for _, pt := range pts {
		for _, f := range pt.Conform() {
			key := pt.Measurement + "." + f
			if !p.outOfRange[key] {
				if p.outOfRange == nil {
					p.outOfRange = map[string]bool{}
				}
				p.outOfRange[key] = true
				p.log.Warn("snmp value outside its schema range dropped", "device", p.t.Name, "field", key)
			}
		}
		if len(pt.Fields) > 0 {
			out = append(out, pt)
		}
	}
	return out
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, gosnmp.ErrMaxRetriesExceeded) {
		return true
	}
	return strings.Contains(err.Error(), "timeout")
}

func (p *Poller) connect(ctx context.Context) error {
	if p.g != nil {
		p.g.Context = ctx
		return nil
	}
	g, err := p.t.newClient()
	if err != nil {
		return err
	}
	g.Context = ctx
	g.OnSent = func(*gosnmp.GoSNMP) { p.requests++ }
	if err := g.Connect(); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	p.g = g
	return nil
}

// poll runs one poll; res.answered tells whether the device answered at all.
func (p *Poller) poll(ctx context.Context) (res pollResult, err error) {
	if err := p.connect(ctx); err != nil {
		return res, err
	}
	// Cancel an in-flight read as soon as ctx ends.
	conn := p.g.Conn
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	refresh := p.meta == nil || p.needMeta || time.Since(p.metaAt) > metaRefresh

	// 1. One GET: sysUpTime, sysName, HOST-RESOURCES detection and the
	// cached RAM storage entries.
	oids := []string{oidSysUpTime, oidSysName, oidSysObjectID}
	if refresh || !p.hrKnown {
		oids = append(oids, oidHrSystemUptime)
	}
	ramInGet := !refresh && p.hrPresent && len(p.ramIdx) > 0
	if ramInGet {
		oids = append(oids, ramOIDs(p.ramIdx)...)
	}
	vars, err := p.get(oids)
	if err != nil {
		return res, fmt.Errorf("get system: %w", err)
	}
	res.answered = true
	for _, v := range vars {
		if !isValue(v) {
			continue
		}
		switch normOID(v.Name) {
		case oidSysUpTime:
			res.uptime, res.hasUptime = toUint64(v.Value)
		case oidSysName:
			res.sysName, _ = toString(v.Value)
		case oidSysObjectID:
			res.sysObjID, _ = v.Value.(string)
		}
	}
	if slices.Contains(oids, oidHrSystemUptime) {
		p.hrKnown = true
		p.hrPresent = slices.ContainsFunc(vars, func(v gosnmp.SnmpPDU) bool {
			return normOID(v.Name) == oidHrSystemUptime && isValue(v)
		})
	}
	if rebooted(p.rates.uptime, p.rates.hasUptime, res.uptime, res.hasUptime) && !refresh {
		p.log.Info("device restarted (sysUpTime went backwards); re-reading interfaces")
		refresh = true
	}

	// 2. HOST-RESOURCES-MIB CPU and memory.
	if p.hrPresent {
		if err := p.pollHR(&res, vars, refresh, ramInGet); err != nil {
			return res, err
		}
	}

	// 3. Interfaces.
	if refresh {
		if err := p.refreshMeta(); err != nil {
			return res, err
		}
	}
	rs, err := p.fetchCounters(refresh)
	if err != nil {
		return res, err
	}
	res.at = time.Now()
	res.ifPoints = p.interfacePoints(rs, res)

	// 4. Vendor profile (profile.go).
	var perr error
	if prof := p.resolveProfile(res.sysObjID); prof != nil {
		if prof != p.profile {
			p.log.Info("snmp profile selected", "profile", prof.Name, "sys_object_id", res.sysObjID)
		}
		p.profile = prof
		res.profPts, perr = p.pollProfile(prof, res.at)
		// CPU and memory from the profile fill what HOST-RESOURCES-MIB
		// did not give.
		var cpu, mem float64
		var hasCPU, hasMem bool
		res.profPts, cpu, hasCPU, mem, hasMem = deviceLoad(res.profPts)
		if hasCPU && !res.hasCPU {
			res.cpu, res.hasCPU = cpu, true
		}
		if hasMem && !res.hasMem {
			res.mem, res.hasMem = mem, true
		}
	} else {
		p.profile = nil
	}
	// 5. User-defined scalars and tables (custom.go).
	cpts, cerr := p.pollCustom(res.at)
	res.ifPoints = append(res.ifPoints, cpts...)
	return res, errors.Join(perr, cerr)
}

func ramOIDs(idx []uint32) []string {
	var out []string
	for _, i := range idx {
		s := "." + strconv.FormatUint(uint64(i), 10)
		out = append(out, oidHrStorageUnits+s, oidHrStorageSize+s, oidHrStorageUsed+s)
	}
	return out
}

func (p *Poller) pollHR(res *pollResult, vars []gosnmp.SnmpPDU, refresh, ramInGet bool) error {
	load, err := p.walk(oidHrProcessorLoad)
	if err != nil {
		return fmt.Errorf("walk hrProcessorLoad: %w", err)
	}
	res.cpu, res.hasCPU = cpuRatio(load)
	if refresh {
		types, err := p.walk(oidHrStorageType)
		if err != nil {
			return fmt.Errorf("walk hrStorageType: %w", err)
		}
		p.ramIdx = ramIndexes(types)
	}
	if len(p.ramIdx) == 0 {
		return nil
	}
	if !ramInGet {
		vars, err = p.get(ramOIDs(p.ramIdx))
		if err != nil {
			return fmt.Errorf("get hrStorage: %w", err)
		}
	}
	res.mem, res.hasMem = memRatio(vars, p.ramIdx)
	return nil
}

// cpuRatio averages hrProcessorLoad (percent) into a 0..1 ratio.
func cpuRatio(pdus []gosnmp.SnmpPDU) (float64, bool) {
	var sum float64
	var n int
	for _, v := range pdus {
		if _, ok := oidIndex(oidHrProcessorLoad, v.Name); !ok || !isValue(v) {
			continue
		}
		if l, ok := toUint64(v.Value); ok && l <= 100 {
			sum += float64(l)
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n) / 100, true
}

// ramIndexes returns the hrStorage indexes of type hrStorageRam.
func ramIndexes(pdus []gosnmp.SnmpPDU) []uint32 {
	var out []uint32
	for _, v := range pdus {
		idx, ok := oidIndex(oidHrStorageType, v.Name)
		if !ok || !isValue(v) {
			continue
		}
		if s, ok := v.Value.(string); ok && normOID(s) == oidHrStorageRAM {
			out = append(out, idx)
		}
	}
	return out
}

// memRatio is used/size over the RAM storage entries in vars.
func memRatio(vars []gosnmp.SnmpPDU, idx []uint32) (float64, bool) {
	type entry struct{ units, size, used uint64 }
	es := map[uint32]*entry{}
	for _, i := range idx {
		es[i] = &entry{}
	}
	for _, v := range vars {
		if !isValue(v) {
			continue
		}
		for col, dst := range map[string]func(e *entry, u uint64){
			oidHrStorageUnits: func(e *entry, u uint64) { e.units = u },
			oidHrStorageSize:  func(e *entry, u uint64) { e.size = u },
			oidHrStorageUsed:  func(e *entry, u uint64) { e.used = u },
		} {
			if i, ok := oidIndex(col, v.Name); ok && es[i] != nil {
				if u, ok := toUint64(v.Value); ok {
					dst(es[i], u)
				}
			}
		}
	}
	var size, used float64
	for _, e := range es {
		units := float64(max(e.units, 1))
		size += float64(e.size) * units
		used += float64(e.used) * units
	}
	if size <= 0 || used > size {
		return 0, false
	}
	return used / size, true
}

// get runs GETs of oids (split into requests of maxGetOids). For SNMPv1,
// varbinds the agent reports as noSuchName are dropped and the rest asked
// again.
func (p *Poller) get(oids []string) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	for start := 0; start < len(oids); start += maxGetOids {
		chunk := slices.Clone(oids[start:min(start+maxGetOids, len(oids))])
		for len(chunk) > 0 {
			pkt, err := p.g.Get(chunk)
			if err != nil {
				return nil, err
			}
			if pkt.Error == gosnmp.NoSuchName && pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= len(chunk) {
				chunk = slices.Delete(chunk, int(pkt.ErrorIndex)-1, int(pkt.ErrorIndex))
				continue
			}
			if pkt.Error != gosnmp.NoError {
				return nil, fmt.Errorf("agent error %v", pkt.Error)
			}
			out = append(out, pkt.Variables...)
			break
		}
	}
	return out, nil
}

// walk reads one column: GETBULK with v2c/v3, GETNEXT with v1.
func (p *Poller) walk(oid string) ([]gosnmp.SnmpPDU, error) {
	if p.t.Version == "1" {
		return p.g.WalkAll(oid)
	}
	return p.g.BulkWalkAll(oid)
}

// walkColumns walks each column once into rs: all of them together with
// GETBULK (v2c, v3), one after the other with GETNEXT (v1).
func (p *Poller) walkColumns(rs rows, cols ...column) error {
	if p.t.Version != "1" {
		return p.bulkColumns(rs, cols)
	}
	for _, c := range cols {
		pdus, err := p.walk(columnOID[c])
		if err != nil {
			return fmt.Errorf("walk %s: %w", columnOID[c], err)
		}
		parseColumn(rs, c, pdus)
	}
	return nil
}

// refreshMeta walks the names, aliases and speeds and selects interfaces.
func (p *Poller) refreshMeta() error {
	cols := []column{colDescr, colSpeed}
	if p.t.Version != "1" {
		cols = append(cols, colName, colAlias, colHighSpeed)
	}
	meta := rows{}
	if err := p.walkColumns(meta, cols...); err != nil {
		return err
	}
	p.meta = compactMeta(meta)
	p.selected = selectInterfaces(meta, p.sel)
	p.metaAt = time.Now()
	p.needMeta = false
	return nil
}

// metaRow holds what is kept of an interface between polls: its names and
// speeds. A full ifRow has a cell for every column (over a KiB); kept for
// every interface of every device (12,000 for 200 60-port switches) those
// were half of the agent's live heap, which the garbage collector scanned
// on every cycle.
type metaRow struct {
	cells [colHighSpeed + 1]cell // colDescr, colName, colAlias, colSpeed, colHighSpeed
}

func compactMeta(rs rows) map[uint32]*metaRow {
	out := make(map[uint32]*metaRow, len(rs))
	for idx, r := range rs {
		m := &metaRow{}
		copy(m.cells[:], r.cells[:colHighSpeed+1])
		out[idx] = m
	}
	return out
}

// selectInterfaces returns the sorted indexes whose ifName, ifAlias,
// ifDescr or index matches one of sel (all when sel is empty).
func selectInterfaces(meta rows, sel []*regexp.Regexp) []uint32 {
	var out []uint32
	for idx, r := range meta {
		if len(sel) == 0 || matchAny(sel, r.cells[colName].s, r.cells[colAlias].s, r.cells[colDescr].s, strconv.FormatUint(uint64(idx), 10)) {
			out = append(out, idx)
		}
	}
	slices.Sort(out)
	return out
}

func matchAny(sel []*regexp.Regexp, vals ...string) bool {
	for _, re := range sel {
		for _, v := range vals {
			if v != "" && re.MatchString(v) {
				return true
			}
		}
	}
	return false
}

// useGet reports whether reading the few selected interfaces by GET is
// cheaper than walking whole columns.
func (p *Poller) useGet() bool {
	return len(p.sel) > 0 && len(p.selected) > 0 && len(p.selected) <= 16 && len(p.selected)*4 <= len(p.meta)
}

// fetch reads columns for the selected interfaces: walks, or GETs of the
// selected instances when that is cheaper.
func (p *Poller) fetch(rs rows, cols ...column) error {
	if !p.useGet() {
		return p.walkColumns(rs, cols...)
	}
	var oids []string
	for _, c := range cols {
		for _, idx := range p.selected {
			oids = append(oids, columnOID[c]+"."+strconv.FormatUint(uint64(idx), 10))
		}
	}
	vars, err := p.get(oids)
	if err != nil {
		return fmt.Errorf("get interface counters: %w", err)
	}
	for _, c := range cols {
		parseColumn(rs, c, vars)
	}
	return nil
}

var (
	hcOctetCols  = []column{colHCInOctets, colHCOutOctets}
	octet32Cols  = []column{colInOctets, colOutOctets}
	hcPktCols    = []column{colHCInUcast, colHCInMcast, colHCInBcast, colHCOutUcast, colHCOutMcast, colHCOutBcast}
	pkt32Cols    = []column{colInUcast, colInNUcast, colOutUcast, colOutNUcast}
	alwaysCols   = []column{colInErrors, colOutErrors, colInDiscards, colOutDiscards, colOper, colAdmin}
	discColsList = []column{colDiscontinuity}
)

// fetchCounters reads the counters. On a refresh it also decides which
// counter columns the device has (64-bit, 32-bit or both), so that later
// polls read only those. No column is read twice in one poll.
func (p *Poller) fetchCounters(refresh bool) (rows, error) {
	rs := rows{}
	v1 := p.t.Version == "1"
	if refresh {
		p.hcOctets, p.hcPkts, p.disc = !v1, !v1, !v1
	}
	first := slices.Clone(alwaysCols)
	if p.hcOctets {
		first = append(first, hcOctetCols...)
	}
	if p.hcPkts {
		first = append(first, hcPktCols...)
	}
	if p.disc {
		first = append(first, discColsList...)
	}
	if !refresh {
		if p.octets32 {
			first = append(first, octet32Cols...)
		}
		if p.pkts32 {
			first = append(first, pkt32Cols...)
		}
	}
	if err := p.fetch(rs, first...); err != nil {
		return nil, err
	}
	if refresh {
		missing := func(c column) (miss, any bool) {
			for _, idx := range p.selected {
				if r := rs[idx]; r != nil && r.has(c) {
					any = true
				} else {
					miss = true
				}
			}
			return miss, any
		}
		var second []column
		var hasAny bool
		p.octets32, hasAny = missing(colHCInOctets)
		p.hcOctets = p.hcOctets && hasAny
		if p.octets32 {
			second = append(second, octet32Cols...)
		}
		p.pkts32, hasAny = missing(colHCInUcast)
		p.hcPkts = p.hcPkts && hasAny
		if p.pkts32 {
			second = append(second, pkt32Cols...)
		}
		_, hasAny = missing(colDiscontinuity)
		p.disc = p.disc && hasAny
		if err := p.fetch(rs, second...); err != nil {
			return nil, err
		}
	}
	// Interfaces that came or went: read the names again next poll.
	for idx, r := range rs {
		if p.meta[idx] == nil && (r.has(colInOctets) || r.has(colHCInOctets) || r.has(colOper)) {
			p.needMeta = true
		}
	}
	if !p.useGet() {
		for _, idx := range p.selected {
			if rs[idx] == nil {
				p.needMeta = true
			}
		}
	}
	return rs, nil
}

// interfacePoints builds the snmp_if points of the selected interfaces and
// updates the rate tracker.
func (p *Poller) interfacePoints(rs rows, res pollResult) []*point.Point {
	samples := make(map[uint32]ifSample, len(p.selected))
	var present []*ifRow
	for _, idx := range p.selected {
		r := rs[idx]
		m := p.meta[idx]
		if r == nil || m == nil {
			continue
		}
		for _, c := range []column{colDescr, colName, colAlias, colSpeed, colHighSpeed} {
			r.cells[c] = m.cells[c]
		}
		samples[idx] = r.sample()
		present = append(present, r)
	}
	rates := p.rates.update(res.at, res.uptime, res.hasUptime, samples)

	pts := make([]*point.Point, 0, len(present))
	for _, r := range present {
		name := r.cells[colName].s
		if name == "" {
			name = r.cells[colDescr].s
		}
		pt := point.New("snmp_if", res.at).TagMap(p.t.Tags).
			Tag("device", p.t.Name).
			Tag("ifindex", strconv.FormatUint(uint64(r.Index), 10)).
			Tag("ifname", name).
			Tag("ifalias", r.cells[colAlias].s)
		s := samples[r.Index]
		if s.In.OK {
			pt.Uint("receive_bytes_total", s.In.V)
		}
		if s.Out.OK {
			pt.Uint("transmit_bytes_total", s.Out.V)
		}
		if v, ok := r.packets(true); ok {
			pt.Uint("receive_packets_total", v)
		}
		if v, ok := r.packets(false); ok {
			pt.Uint("transmit_packets_total", v)
		}
		for _, f := range []struct {
			c   column
			key string
		}{
			{colInErrors, "receive_errors_total"},
			{colOutErrors, "transmit_errors_total"},
			{colInDiscards, "receive_discards_total"},
			{colOutDiscards, "transmit_discards_total"},
		} {
			if r.has(f.c) {
				pt.Uint(f.key, r.cells[f.c].u)
			}
		}
		if rt, ok := rates[r.Index]; ok {
			if rt.HasIn {
				pt.Float("receive_bits_per_second", rt.In)
			}
			if rt.HasOut {
				pt.Float("transmit_bits_per_second", rt.Out)
			}
		}
		if sp, ok := r.speed(); ok {
			pt.Uint("speed_bits_per_second", sp)
		}
		if r.has(colOper) {
			pt.Int("oper_status", r.cells[colOper].i)
		}
		if r.has(colAdmin) {
			pt.Int("admin_status", r.cells[colAdmin].i)
		}
		pts = append(pts, pt)
	}
	return pts
}
