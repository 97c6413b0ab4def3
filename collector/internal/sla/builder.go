package sla

import (
	"context"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// Builder classifies incoming ICMP rounds and agent heartbeats into minute
// marks (the ingest path calls it per point), and exports the current
// state of every link as pantau_link_state.
type Builder struct {
	inv     atomic.Pointer[inventory.Inventory]
	idx     atomic.Pointer[builderIndex]
	scope   atomic.Pointer[scopeIndex] // scope.go
	windows atomic.Pointer[[]Window]
	now     func() time.Time

	mu   sync.Mutex
	last map[seriesID]lastMark // link or service → newest minute seen
}

type seriesID struct {
	kind uint8
	id   string
}

type lastMark struct {
	minute UnixMinute
	bits   uint16
	// carried is when the down run that reaches the start of this minute
	// began, from the minutes before (unix seconds; 0: none)
	carried int64
	// signalLow is the newest minute with a low radio signal
	// (BitSignalLow marks carry no round, so they never start a minute)
	signalLow UnixMinute
}

// RoundMark is the mark of one round (an ICMP round or a service check)
// of class at ns: the class in its minute and the round's 10-second slot.
// Ingest and sla rebuild both make their marks with it.
func RoundMark(kind uint8, id string, ns int64, class uint16) Mark {
	return Mark{Kind: kind, ID: id, Minute: MinuteOf(ns), Bits: RoundBits(ns, class)}
}

// NewBuilder returns a Builder for inv (which may be nil: no links).
func NewBuilder(inv *inventory.Inventory, now func() time.Time) *Builder {
	if now == nil {
		now = time.Now
	}
	b := &Builder{now: now, last: map[seriesID]lastMark{}}
	b.SetInventory(inv)
	return b
}

// SetInventory swaps the inventory (reload without restart).
func (b *Builder) SetInventory(inv *inventory.Inventory) {
	b.idx.Store(newBuilderIndex(inv))
	b.scope.Store(newScopeIndex(inv))
	b.inv.Store(inv)
}

// builderIndex is the ingest path's view of an inventory: lookups by the
// tag bytes of a line, without converting them to strings (the
// map[string(bytes)] form does not allocate), and thresholds worked out
// once per link.
type builderIndex struct {
	byID     map[string]*linkInfo
	byTarget map[string]*targetLinks
	// bySNMP: snmp device and interface → the link they carry, for the
	// links with a radio signal threshold
	bySNMP map[[2]string]*linkInfo
	// byRadioDevice: snmp device → the one link naming it, for radio
	// readings without ifname (inventory.MatchRadio)
	byRadioDevice map[string]*linkInfo
	sites         map[string]string // site id → the same id, interned
	// deviceSites: inventory device id → its site id
	deviceSites map[string]string
	// probes: measurement → target → the services checked by it
	probes map[string]map[string]*targetServices
}

// ServiceCheck is a service as the ingest path classifies its checks.
type ServiceCheck struct {
	id string
	// Field holds the check's response time in seconds ("" for none).
	Field string
	thr   float64 // seconds; a slower check is degraded
}

type targetServices struct {
	any     *ServiceCheck
	byAgent map[string]*ServiceCheck
}

type linkInfo struct {
	id  string
	thr Thresholds
}

type targetLinks struct {
	any     *linkInfo            // the link whose icmp.agent is empty
	byAgent map[string]*linkInfo // links restricted to one agent
}

func newBuilderIndex(inv *inventory.Inventory) *builderIndex {
	x := &builderIndex{byID: map[string]*linkInfo{}, byTarget: map[string]*targetLinks{}, bySNMP: map[[2]string]*linkInfo{}, byRadioDevice: map[string]*linkInfo{}, sites: map[string]string{}, deviceSites: map[string]string{},
		probes: map[string]map[string]*targetServices{}}
	if inv == nil {
		return x
	}
	for i := range inv.Services {
		sv := &inv.Services[i]
		sc := &ServiceCheck{id: sv.ID, Field: sv.Thresholds.Field, thr: math.Inf(1)}
		if rt := sv.Thresholds.ResponseTime; rt != nil && sv.Thresholds.Field != "" {
			sc.thr = rt.Std().Seconds()
		}
		byTarget := x.probes[sv.Probe.Measurement]
		if byTarget == nil {
			byTarget = map[string]*targetServices{}
			x.probes[sv.Probe.Measurement] = byTarget
		}
		t := byTarget[sv.Probe.Target]
		if t == nil {
			t = &targetServices{byAgent: map[string]*ServiceCheck{}}
			byTarget[sv.Probe.Target] = t
		}
		if sv.Probe.Agent == "" {
			t.any = sc
		} else {
			t.byAgent[sv.Probe.Agent] = sc
		}
	}
	for i := range inv.Sites {
		x.sites[inv.Sites[i].ID] = inv.Sites[i].ID
	}
	for i := range inv.Devices {
		if id, ok := x.sites[inv.Devices[i].Site]; ok {
			x.deviceSites[inv.Devices[i].ID] = id
		}
	}
	radioDevs := inv.RadioDeviceLinks()
	for i := range inv.Links {
		l := &inv.Links[i]
		li := &linkInfo{id: l.ID, thr: LinkThresholds(l)}
		x.byID[l.ID] = li
		if l.SNMP.Device != "" && l.SNMP.Interface != "" && !math.IsInf(li.thr.SignalDBm, -1) {
			x.bySNMP[[2]string{l.SNMP.Device, l.SNMP.Interface}] = li
		}
		if radioDevs[l.SNMP.Device] == l.ID && !math.IsInf(li.thr.SignalDBm, -1) {
			x.byRadioDevice[l.SNMP.Device] = li
		}
		if l.ICMP.Target == "" {
			continue
		}
		t := x.byTarget[l.ICMP.Target]
		if t == nil {
			t = &targetLinks{byAgent: map[string]*linkInfo{}}
			x.byTarget[l.ICMP.Target] = t
		}
		if l.ICMP.Agent == "" {
			t.any = li
		} else {
			t.byAgent[l.ICMP.Agent] = li
		}
	}
	return x
}

// match is inventory.MatchICMP on tag bytes.
func (x *builderIndex) match(agent string, linkTag, target []byte) *linkInfo {
	if li := x.byID[string(linkTag)]; li != nil {
		return li
	}
	t := x.byTarget[string(target)]
	if t == nil {
		return nil
	}
	if li := t.byAgent[agent]; li != nil {
		return li
	}
	return t.any
}

// ICMPBytes is ICMP for the ingest path, on the line's tag bytes.
func (b *Builder) ICMPBytes(marks []Mark, agent string, linkTag, target []byte, ns int64, up bool, loss, rtt float64, hasRTT bool) []Mark {
	li := b.idx.Load().match(agent, linkTag, target)
	if li == nil {
		return marks
	}
	return append(marks, RoundMark(KindLink, li.id, ns, Classify(up, loss, rtt, hasRTT, li.thr)))
}

// HeartbeatBytes is Heartbeat on the line's site tag bytes.
func (b *Builder) HeartbeatBytes(marks []Mark, site []byte, ns int64) []Mark {
	id, ok := b.idx.Load().sites[string(site)]
	if !ok {
		return marks
	}
	return append(marks, Mark{Kind: KindSite, ID: id, Minute: MinuteOf(ns), Bits: BitSeen})
}

// ChecksServices tells whether some service is decided by measurement,
// so the ingest path looks no further at other lines.
func (b *Builder) ChecksServices(measurement []byte) bool {
	return b.idx.Load().probes[string(measurement)] != nil
}

// ServiceOf returns the service that an agent's check of target with
// measurement decides (inventory.MatchService on tag bytes); nil if none.
func (b *Builder) ServiceOf(measurement []byte, agent string, target []byte) *ServiceCheck {
	t := b.idx.Load().probes[string(measurement)][string(target)]
	if t == nil {
		return nil
	}
	if sc := t.byAgent[agent]; sc != nil {
		return sc
	}
	return t.any
}

// Mark returns the mark of one check: down when up is false,
// degraded when its response time (rt, when hasRT) is over the service's
// threshold, up otherwise.
func (sc *ServiceCheck) Mark(ns int64, up bool, rt float64, hasRT bool) Mark {
	class := BitUp
	switch {
	case !up:
		class = BitDown
	case hasRT && rt > sc.thr:
		class = BitDegraded
	}
	return RoundMark(KindService, sc.id, ns, class)
}

// Inventory returns the current inventory (nil when none).
func (b *Builder) Inventory() *inventory.Inventory { return b.inv.Load() }

// SetWindows swaps the maintenance windows used for the current state.
func (b *Builder) SetWindows(ws []Window) { b.windows.Store(&ws) }

// LinkThresholds returns the degraded thresholds of a link.
func LinkThresholds(l *inventory.Link) Thresholds {
	t := Thresholds{LossRatio: 1, RTT: 1e9, SignalDBm: math.Inf(-1)}
	if l.Thresholds.LossRatio != nil {
		t.LossRatio = *l.Thresholds.LossRatio
	}
	if l.Thresholds.RTT != nil {
		t.RTT = l.Thresholds.RTT.Std().Seconds()
	}
	if p := l.Thresholds.SignalDBm; p != nil && *p != 0 {
		t.SignalDBm = *p
	}
	return t
}

// ICMP appends the mark of one icmp round to marks, when the round
// belongs to a link.
func (b *Builder) ICMP(marks []Mark, agent, linkTag, target string, ns int64, up bool, loss, rtt float64, hasRTT bool) []Mark {
	inv := b.inv.Load()
	if inv == nil {
		return marks
	}
	l := inv.MatchICMP(linkTag, agent, target)
	if l == nil {
		return marks
	}
	return append(marks, RoundMark(KindLink, l.ID, ns, Classify(up, loss, rtt, hasRTT, LinkThresholds(l))))
}

// Heartbeat appends the mark of an agent heartbeat from a site.
func (b *Builder) Heartbeat(marks []Mark, site string, ns int64) []Mark {
	if site == "" {
		return marks
	}
	inv := b.inv.Load()
	if inv == nil || inv.Site(site) == nil {
		return marks
	}
	return append(marks, Mark{Kind: KindSite, ID: site, Minute: MinuteOf(ns), Bits: BitSeen})
}

// Committed records marks that are now stored, for the current state.
func (b *Builder) Committed(marks []Mark) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range marks {
		if m.Kind != KindLink && m.Kind != KindService {
			continue
		}
		k := seriesID{m.Kind, m.ID}
		l, ok := b.last[k]
		if m.Bits&^BitSignalLow == 0 {
			if m.Bits != 0 && m.Minute > l.signalLow {
				l.signalLow = m.Minute
				b.last[k] = l
			}
			continue
		}
		switch {
		case !ok:
			b.last[k] = lastMark{m.Minute, m.Bits, 0, 0}
		case m.Minute > l.minute:
			b.last[k] = lastMark{m.Minute, m.Bits, l.downFrom(), l.signalLow}
		case m.Minute == l.minute:
			l.bits |= m.Bits
			b.last[k] = l
		}
	}
}

// MarkCollector stores that the collector is running in the current
// minute (the SLA engine never counts a minute without data as a site's
// outage when the collector itself was not running).
func (b *Builder) MarkCollector(ctx context.Context, st Store) error {
	return st.Merge(ctx, []Mark{{Kind: KindCollector, Minute: MinuteOf(b.now().UnixNano()), Bits: BitSeen}})
}

// stale is how old the newest round may be for the current state.
const stale = 3 // minutes

// InMaintenance tells whether a maintenance window covers the link (or,
// with link "", the site) at t.
func (b *Builder) InMaintenance(link, site string, t time.Time) bool {
	ws := b.windows.Load()
	if ws == nil {
		return false
	}
	for _, w := range *ws {
		if w.Covers(link, site) && w.active(t) {
			return true
		}
	}
	return false
}

// Current returns a link's state now: the state of its latest round (the
// latest slot of its newest minute with data) if that minute is at most 3
// minutes old, maintenance during a window, nodata otherwise.
func (b *Builder) Current(l *inventory.Link, site string) State {
	return b.current(seriesID{KindLink, l.ID}, func(w Window) bool { return w.Covers(l.ID, site) })
}

// CurrentService is Current for a service.
func (b *Builder) CurrentService(sv *inventory.Service) State {
	return b.current(seriesID{KindService, sv.ID}, func(w Window) bool { return w.CoversService(sv.ID, sv.Site) })
}

func (b *Builder) current(k seriesID, covers func(Window) bool) State {
	now := b.now()
	if ws := b.windows.Load(); ws != nil {
		for _, w := range *ws {
			if covers(w) && w.active(now) {
				return Maintenance
			}
		}
	}
	b.mu.Lock()
	m, ok := b.last[k]
	b.mu.Unlock()
	if !ok || m.bits == 0 || MinuteOf(now.UnixNano())-m.minute > stale {
		return NoData
	}
	if m.signalLow == m.minute {
		return latest(m.bits | BitSignalLow)
	}
	return latest(m.bits)
}

// SiteState is a site's current state from its links' current states,
// as pantau_site_state has it: the best of them (a site with redundant
// links is up while one of them is; all down while one is in
// maintenance is maintenance), nodata for a site without links.
func SiteState(links []State) State {
	if len(links) == 0 {
		return NoData
	}
	return combine(links)
}

// CurrentSince is Current with the times the alert engine needs: at is
// the start of the 10-second slot of the latest round, and for a link
// that is down, since is the slot of the first failed round of the run of
// failed rounds that reaches it (as far back as the rounds committed
// since the collector started show). Both are zero without a round.
func (b *Builder) CurrentSince(l *inventory.Link, site string) (st State, since, at time.Time) {
	return b.currentSince(seriesID{KindLink, l.ID}, func(w Window) bool { return w.Covers(l.ID, site) })
}

// CurrentServiceSince is CurrentSince for a service.
func (b *Builder) CurrentServiceSince(sv *inventory.Service) (st State, since, at time.Time) {
	return b.currentSince(seriesID{KindService, sv.ID}, func(w Window) bool { return w.CoversService(sv.ID, sv.Site) })
}

func (b *Builder) currentSince(k seriesID, covers func(Window) bool) (State, time.Time, time.Time) {
	st := b.current(k, covers)
	if st == Maintenance || st == NoData {
		return st, time.Time{}, time.Time{}
	}
	b.mu.Lock()
	m := b.last[k]
	b.mu.Unlock()
	rounds := (m.bits>>4 | m.bits>>10) & 0x3f
	if rounds == 0 {
		return st, time.Time{}, time.Time{}
	}
	at := time.Unix(m.minute*60+int64(7-bits.LeadingZeros8(uint8(rounds)))*10, 0)
	var since time.Time
	if st == Down {
		if from := m.downFrom(); from != 0 {
			since = time.Unix(from, 0)
		}
	}
	return st, since, at
}

// downFrom is when the run of failed rounds that ends the minute began
// (unix seconds of its first slot; 0 when the latest round is good or the
// minute has no slot bits).
func (l lastMark) downFrom() int64 {
	rounds := (l.bits>>4 | l.bits>>10) & 0x3f
	if rounds == 0 {
		return 0
	}
	from := int64(0)
	for s := 7 - bits.LeadingZeros8(uint8(rounds)); s >= 0; s-- {
		switch {
		case l.bits&(BitSlotGood<<s) != 0:
			return from
		case l.bits&(BitSlotDown<<s) != 0:
			from = l.minute*60 + int64(s)*10
		}
	}
	if l.carried != 0 {
		return l.carried // down from the minute's start: the run began before
	}
	return from
}

// latest is the state of the latest round of a minute: the state of its
// last slot with a round (a good one is degraded when a degraded round was
// seen in the minute), or DataState for a minute without slot bits.
func latest(b uint16) State {
	rounds := (b>>4 | b>>10) & 0x3f
	if rounds == 0 {
		return DataState(b)
	}
	top := 7 - bits.LeadingZeros8(uint8(rounds))
	switch {
	case b&(BitSlotGood<<top) == 0:
		return Down
	case b&(BitDegraded|BitSignalLow) != 0:
		return Degraded
	}
	return Up
}

var (
	linkStateDesc = prometheus.NewDesc("pantau_link_state",
		"Current SLA state of an inventory link (1 for the current state, 0 for the others).",
		[]string{"link", "site", "opd", "district", "state"}, nil)
	contractExpiryDesc = prometheus.NewDesc("pantau_link_contract_expiry_timestamp_seconds",
		"End of an inventory link's ISP contract (start of the day after its last day, in the site's zone).",
		[]string{"link", "site", "opd", "isp", "circuit"}, nil)
	warrantyExpiryDesc = prometheus.NewDesc("pantau_device_warranty_expiry_timestamp_seconds",
		"End of an inventory device's warranty (start of the day after its last day).",
		[]string{"device", "site", "asset_code"}, nil)
	deviceContractExpiryDesc = prometheus.NewDesc("pantau_device_contract_expiry_timestamp_seconds",
		"End of an inventory device's support contract (start of the day after its last day).",
		[]string{"device", "site", "asset_code"}, nil)
	inventoryLinksDesc = prometheus.NewDesc("pantau_inventory_links",
		"Links in the loaded inventory.", nil, nil)
	serviceStateDesc = prometheus.NewDesc("pantau_service_state",
		"Current SLA state of an inventory service (1 for the current state, 0 for the others).",
		[]string{"service", "site", "opd", "state"}, nil)
	inventoryServicesDesc = prometheus.NewDesc("pantau_inventory_services",
		"Services in the loaded inventory.", nil, nil)
	siteStateDesc = prometheus.NewDesc("pantau_site_state",
		"Current state of an inventory site, the best of its links' (1 for the current state, 0 for the others); nodata for a site without links.",
		[]string{"site", "opd", "district", "kind", "state"}, nil)
	linkBandwidthDesc = prometheus.NewDesc("pantau_link_bandwidth_bytes_per_second",
		"Contracted bandwidth (CIR) of an inventory link, from the inventory, in bytes per second (the inventory's bits per second / 8; Prometheus's base unit).",
		[]string{"link", "site", "opd", "district"}, nil)
	linkTargetDesc = prometheus.NewDesc("pantau_link_sla_target_ratio",
		"SLA availability target of an inventory link (0.995 for 99.5 %).",
		[]string{"link", "site", "opd", "district"}, nil)
	serviceTargetDesc = prometheus.NewDesc("pantau_service_sla_target_ratio",
		"SLA availability target of an inventory service (0.99 for 99 %).",
		[]string{"service", "site", "opd"}, nil)
	siteTargetDesc = prometheus.NewDesc("pantau_site_sla_target_ratio",
		"SLA availability target of an inventory site that sets one (0.995 for 99.5 %).",
		[]string{"site", "opd", "district"}, nil)
	siteInfoDesc = prometheus.NewDesc("pantau_site_info",
		"An inventory site (always 1): its name, kind, OPD, district and coordinates (decimal degrees, empty when unknown), for maps and tables.",
		[]string{"site", "name", "kind", "opd", "district", "lat", "lon"}, nil)
)

// Describe implements prometheus.Collector.
func (b *Builder) Describe(ch chan<- *prometheus.Desc) {
	ch <- linkStateDesc
	ch <- contractExpiryDesc
	ch <- warrantyExpiryDesc
	ch <- deviceContractExpiryDesc
	ch <- inventoryLinksDesc
	ch <- serviceStateDesc
	ch <- inventoryServicesDesc
	ch <- siteStateDesc
	ch <- siteInfoDesc
	ch <- siteTargetDesc
	ch <- linkBandwidthDesc
	ch <- linkTargetDesc
	ch <- serviceTargetDesc
}

// Collect implements prometheus.Collector.
func (b *Builder) Collect(ch chan<- prometheus.Metric) {
	inv := b.inv.Load()
	if inv == nil {
		ch <- prometheus.MustNewConstMetric(inventoryLinksDesc, prometheus.GaugeValue, 0)
		ch <- prometheus.MustNewConstMetric(inventoryServicesDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(inventoryLinksDesc, prometheus.GaugeValue, float64(len(inv.Links)))
	ch <- prometheus.MustNewConstMetric(inventoryServicesDesc, prometheus.GaugeValue, float64(len(inv.Services)))
	for i := range inv.Services {
		sv := &inv.Services[i]
		cur := b.CurrentService(sv)
		for st := State(0); st < numStates; st++ {
			v := 0.0
			if st == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(serviceStateDesc, prometheus.GaugeValue, v, sv.ID, sv.Site, sv.OPD, st.String())
		}
		ch <- prometheus.MustNewConstMetric(serviceTargetDesc, prometheus.GaugeValue, sv.SLATarget/100, sv.ID, sv.Site, sv.OPD)
	}
	siteLinks := map[string][]State{}
	for i := range inv.Links {
		l := &inv.Links[i]
		s := inv.Site(l.Site)
		if s == nil {
			continue
		}
		cur := b.Current(l, s.ID)
		siteLinks[s.ID] = append(siteLinks[s.ID], cur)
		if l.Bandwidth > 0 {
			ch <- prometheus.MustNewConstMetric(linkBandwidthDesc, prometheus.GaugeValue, float64(l.Bandwidth)/8, l.ID, s.ID, s.OPD, s.District)
		}
		ch <- prometheus.MustNewConstMetric(linkTargetDesc, prometheus.GaugeValue, l.SLATarget/100, l.ID, s.ID, s.OPD, s.District)
		for st := State(0); st < numStates; st++ {
			v := 0.0
			if st == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(linkStateDesc, prometheus.GaugeValue, v, l.ID, s.ID, s.OPD, s.District, st.String())
		}
		if l.Contract != nil && !l.Contract.End.IsZero() {
			ch <- prometheus.MustNewConstMetric(contractExpiryDesc, prometheus.GaugeValue,
				float64(l.Contract.End.In(s.Location).AddDate(0, 0, 1).Unix()), l.ID, s.ID, s.OPD, l.ISP, l.Circuit)
		}
	}
	for i := range inv.Sites {
		s := &inv.Sites[i]
		cur := SiteState(siteLinks[s.ID])
		for st := State(0); st < numStates; st++ {
			v := 0.0
			if st == cur {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(siteStateDesc, prometheus.GaugeValue, v, s.ID, s.OPD, s.District, s.Kind, st.String())
		}
		ch <- prometheus.MustNewConstMetric(siteInfoDesc, prometheus.GaugeValue, 1, s.ID, s.Name, s.Kind, s.OPD, s.District, coord(s.Lat), coord(s.Lon))
		if s.SLATarget > 0 {
			ch <- prometheus.MustNewConstMetric(siteTargetDesc, prometheus.GaugeValue, s.SLATarget/100, s.ID, s.OPD, s.District)
		}
	}
	for i := range inv.Devices {
		d := &inv.Devices[i]
		loc := time.UTC
		if s := inv.Site(d.Site); s != nil && s.Location != nil {
			loc = s.Location
		}
		if !d.WarrantyEnd.IsZero() {
			ch <- prometheus.MustNewConstMetric(warrantyExpiryDesc, prometheus.GaugeValue,
				float64(d.WarrantyEnd.In(loc).AddDate(0, 0, 1).Unix()), d.ID, d.Site, d.AssetCode)
		}
		if !d.ContractEnd.IsZero() {
			ch <- prometheus.MustNewConstMetric(deviceContractExpiryDesc, prometheus.GaugeValue,
				float64(d.ContractEnd.In(loc).AddDate(0, 0, 1).Unix()), d.ID, d.Site, d.AssetCode)
		}
	}
}

// coord formats an optional coordinate for a label.
func coord(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

// SeriesLabels returns the inventory labels a new series gets: (site,
// opd, district, link) for icmp, snmp_if and snmp_radio series of a link;
// (site, opd, district) for the other snmp_if and snmp_radio series and
// the snmp_device, snmp_env and snmp_ups series of an inventory device; (site, opd, service) for the plugin checks of a service; nil
// otherwise. Labels the writer set itself are kept (ingest adds only the
// missing ones).
func (b *Builder) SeriesLabels(measurement, agent, linkTag, target, device, ifname string) [][2]string {
	inv := b.inv.Load()
	if inv == nil {
		return nil
	}
	var l *inventory.Link
	switch measurement {
	case "icmp":
		l = inv.MatchICMP(linkTag, agent, target)
	case "snmp_if":
		l = inv.MatchSNMP(linkTag, device, ifname)
		if l == nil {
			return deviceLabels(inv, device)
		}
	case "snmp_radio":
		l = inv.MatchRadio(linkTag, device, ifname)
		if l == nil {
			return deviceLabels(inv, device)
		}
	case "snmp_device", "snmp_env", "snmp_ups":
		return deviceLabels(inv, device)
	default:
		if sv := inv.MatchService(measurement, agent, target); sv != nil {
			return nonEmpty([][2]string{{"opd", sv.OPD}, {"service", sv.ID}, {"site", sv.Site}})
		}
	}
	if l == nil {
		return nil
	}
	return inv.Labels(l)
}

// deviceLabels are the inventory labels of an inventory device's series:
// its site's district, opd and site.
func deviceLabels(inv *inventory.Inventory, device string) [][2]string {
	d := inv.Device(device)
	if d == nil {
		return nil
	}
	s := inv.Site(d.Site)
	if s == nil {
		return nil
	}
	return nonEmpty([][2]string{{"district", s.District}, {"opd", s.OPD}, {"site", s.ID}})
}

// nonEmpty drops the labels without a value (the list stays sorted).
func nonEmpty(ls [][2]string) [][2]string {
	out := ls[:0]
	for _, l := range ls {
		if l[1] != "" {
			out = append(out, l)
		}
	}
	return out
}
