package alert

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/notify"
)

// defaultMessage is the title and text of an alert in its language.
func defaultMessage(d *messageData) (title, text string) {
	en := d.Lang == "en"
	l := d.Labels
	pick := func(id, eng string) string {
		if en {
			return eng
		}
		return id
	}
	where := l["link"]
	if where == "" {
		where = firstOf(l["target"], l["device"], l["agent"], l["site"])
	}
	place := d.SiteName
	if place == "" {
		place = l["site"]
	}
	var what string
	switch d.Kind {
	case KindLinkDown:
		what = pick("Link "+where+" PUTUS", "Link "+where+" DOWN")
	case KindServiceDown:
		what = pick("Layanan "+l["service"]+" TIDAK DAPAT DIAKSES", "Service "+l["service"]+" DOWN")
	case KindLoss:
		what = pick(fmt.Sprintf("Paket hilang %.0f%% pada %s", 100*d.Value, where), fmt.Sprintf("Packet loss %.0f%% on %s", 100*d.Value, where))
	case KindLatency:
		what = pick(fmt.Sprintf("Latensi %.0f ms pada %s", 1000*d.Value, where), fmt.Sprintf("Latency %.0f ms on %s", 1000*d.Value, where))
	case KindUtilization:
		what = pick(fmt.Sprintf("Utilisasi %.0f%% dari bandwidth kontrak pada %s (%s)", 100*d.Value, where, direction(l["direction"], en)),
			fmt.Sprintf("Utilization %.0f%% of contracted bandwidth on %s (%s)", 100*d.Value, where, direction(l["direction"], en)))
	case KindRadioSignalLow:
		what = pick(fmt.Sprintf("Sinyal radio lemah %.0f dBm pada %s", d.Value, where), fmt.Sprintf("Weak radio signal %.0f dBm on %s", d.Value, where))
	case KindOnBattery:
		what = pick("UPS "+l["device"]+" memakai baterai (listrik padam)", "UPS "+l["device"]+" on battery (mains lost)")
	case KindInterfaceDown:
		what = pick(fmt.Sprintf("Antarmuka %s di %s mati (admin up)", l["ifname"], l["device"]), fmt.Sprintf("Interface %s on %s down while admin up", l["ifname"], l["device"]))
	case KindDeviceRebooted:
		what = pick("Perangkat "+l["device"]+" baru saja restart", "Device "+l["device"]+" rebooted")
	case KindAgentSilent:
		what = pick("Agen "+l["agent"]+" tidak mengirim data", "Agent "+l["agent"]+" silent")
	case KindQueueBacklog:
		what = pick(fmt.Sprintf("Antrean agen %s tertunda %s", l["agent"], duration(secs(d.Value), "id")),
			fmt.Sprintf("Agent %s queue backlog %s old", l["agent"], duration(secs(d.Value), "en")))
	case KindNotifierFailing:
		what = pick("Notifier "+l["notifier"]+" menolak notifikasi", "Notifier "+l["notifier"]+" refuses notifications")
	case KindConfigNotApplied:
		if d.Value >= 2 {
			what = pick("Agen "+l["agent"]+" menolak konfigurasi baru", "Agent "+l["agent"]+" refused its new config")
		} else {
			what = pick("Agen "+l["agent"]+" belum menerapkan konfigurasi baru", "Agent "+l["agent"]+" has not applied its new config")
		}
	case KindAgentOutdated:
		what = pick("Versi agen "+l["agent"]+" usang ("+l["version"]+")", "Agent "+l["agent"]+" outdated ("+l["version"]+")")
	case KindClockSkew:
		what = pick(fmt.Sprintf("Jam agen %s meleset %+.0f detik", l["agent"], d.Value), fmt.Sprintf("Agent %s clock off by %+.0f s", l["agent"], d.Value))
	default:
		what = d.Rule
	}
	if place != "" && d.Kind != KindAgentSilent && d.Kind != KindQueueBacklog && !fleetKind(d.Kind) {
		what += " — " + place
	}
	if d.Resolved {
		title = pick("✅ PULIH: ", "✅ RESOLVED: ") + what
	} else {
		title = severityMark(d.Severity) + what
	}
	var lines []string
	add := func(idLabel, enLabel, v string) {
		if v != "" {
			lines = append(lines, pick(idLabel, enLabel)+": "+v)
		}
	}
	if l["site"] != "" {
		add("Lokasi", "Site", strings.TrimSpace(place+" ("+l["site"]+")"))
	}
	add("OPD", "OPD", l["opd"])
	add("Distrik", "District", l["district"])
	if d.Kind == KindPromQL {
		add("Label", "Labels", sortedLabels(l))
		add("Nilai", "Value", fmt.Sprintf("%g", d.Value))
	}
	add("Alasan", "Reason", l["reason"])
	switch d.Kind {
	case KindConfigNotApplied:
		add("Saran", "Hint", pick("periksa alasan di pantau-collector agents (kolom CONFIG); konfigurasi sebelumnya tetap dipakai agen",
			"see the reason in pantau-collector agents (CONFIG column); the agent keeps its previous config"))
	case KindAgentOutdated:
		add("Saran", "Hint", pick("perbarui agen (docs/fleet.md); versi kolektor lebih baru", "update the agent (docs/fleet.md); the collector is newer"))
	case KindRadioSignalLow:
		add("Saran", "Hint", pick("periksa arah antena, halangan (pohon, bangunan), hujan dan konektor: sinyal di bawah ambang membuat menit SLA jalur ini terdegradasi",
			"check antenna alignment, obstructions (trees, buildings), rain and connectors: a signal below the threshold makes the link's SLA minutes degraded"))
	case KindOnBattery:
		add("Saran", "Hint", pick("listrik PLN di lokasi padam; gangguan jalur selama UPS memakai baterai dicatat berpenyebab listrik",
			"mains power at the site is out; link outages while the UPS is on battery are attributed to power"))
	case KindClockSkew:
		add("Saran", "Hint", pick("periksa NTP/chrony di perangkat agen: tanda menit SLA memakai jam agen",
			"check NTP/chrony on the agent's box: SLA minute marks use the agent's clock"))
	}
	add("Sejak", "Since", d.Since())
	if d.Resolved {
		add("Pulih", "Recovered", d.Until())
		add("Lama gangguan", "Lasted", d.Duration())
	}
	for i, o := range d.Outages {
		if i == 3 {
			add("Lainnya", "More", fmt.Sprintf(pick("%d gangguan lagi (lihat laporan)", "%d more outages (see the report)"), len(d.Outages)-3))
			break
		}
		span := localTime(o.Start, d.Zone) + "–" + localTime(o.End, d.Zone)
		if s, e := o.Start.In(d.Zone), o.End.In(d.Zone); s.YearDay() == e.YearDay() && s.Year() == e.Year() {
			span = localTime(o.Start, d.Zone)[:16] + "–" + localTime(o.End, d.Zone)[11:]
		}
		add("Putus", "Down", fmt.Sprintf(pick("%s (%s), penyebab: %s", "%s (%s), cause: %s"), span, duration(o.End.Sub(o.Start), d.Lang), causeWord(o.Cause, en)))
	}
	if d.Affected > 0 {
		add("Terdampak", "Affected", fmt.Sprintf(pick("%d lokasi di bawahnya (notifikasinya ditahan)", "%d sites below it (their alerts are held back)"), d.Affected))
	}
	add("Aturan", "Rule", d.Rule)
	return title, strings.Join(lines, "\n")
}

// fleetKind reports whether kind is about an agent's fleet state.
func fleetKind(kind string) bool {
	return kind == KindConfigNotApplied || kind == KindAgentOutdated || kind == KindClockSkew
}

// secs converts seconds to a duration.
func secs(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// causeWord names an outage's cause.
func causeWord(c string, en bool) string {
	id := map[string]string{"parent": "lokasi induk putus", "isp": "ISP", "power": "listrik atau agen mati", "unknown": "tidak diketahui"}
	eng := map[string]string{"parent": "parent site down", "isp": "ISP", "power": "power or agent down", "unknown": "unknown"}
	m := id
	if en {
		m = eng
	}
	if w, ok := m[c]; ok {
		return w
	}
	return c
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func direction(d string, en bool) string {
	switch {
	case d == "in" && en:
		return "inbound"
	case d == "out" && en:
		return "outbound"
	case d == "in":
		return "masuk"
	case d == "out":
		return "keluar"
	}
	return d
}

// metrics are the alert engine's self-metrics.
type metrics struct {
	e             *Engine
	evalFailures  *prometheus.CounterVec
	notifications *prometheus.CounterVec
	evaluations   *prometheus.CounterVec
	active        *prometheus.Desc
}

func newMetrics(e *Engine) *metrics {
	m := &metrics{
		e: e,
		evalFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_alert_rule_evaluation_failures_total",
			Help: "Rule evaluations that failed (the rule's alerts are kept as they were)."}, []string{"rule"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_alert_notifications_queued_total",
			Help: "Alert notifications queued in the outbox, per notifier route."}, []string{"rule", "status"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pantau_alert_evaluations_total",
			Help: "Alert evaluations: tick (every rule, every evaluation_interval) or rounds (link_down and service_down, on stored rounds)."}, []string{"trigger"}),
		active: prometheus.NewDesc("pantau_alerts", "Alerts pending, firing, clearing (condition gone, waiting for clear_for) or resolving (waiting for late data) now.", []string{"rule", "state"}, nil),
	}
	for _, r := range e.rules {
		m.evalFailures.WithLabelValues(r.Name)
	}
	m.evaluations.WithLabelValues("tick")
	m.evaluations.WithLabelValues("rounds")
	return m
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.evalFailures.Describe(ch)
	m.notifications.Describe(ch)
	m.evaluations.Describe(ch)
	ch <- m.active
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.evalFailures.Collect(ch)
	m.notifications.Collect(ch)
	m.evaluations.Collect(ch)
	counts := map[[2]string]int{}
	m.e.mu.Lock()
	for _, r := range m.e.rules {
		counts[[2]string{r.Name, StatePending}] += 0
		counts[[2]string{r.Name, StateFiring}] += 0
	}
	for _, a := range m.e.alerts {
		counts[[2]string{a.Rule, a.State}]++
	}
	m.e.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.active, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// Summary is an alert's one-line description without its severity mark,
// in the engine's language (for the Telegram console).
func (e *Engine) Summary(a Alert) string {
	inv := e.o.Inventory()
	d := messageData{Alert: &a, Lang: e.o.Config.Lang, Zone: zoneOf(inv, a.Labels["site"])}
	if s := siteOf(inv, a.Labels["site"]); s != nil {
		d.SiteName = s.Name
	}
	title, _ := defaultMessage(&d)
	return stripMark(title)
}

// severityMark starts a firing title.
func severityMark(sev string) string {
	switch sev {
	case SeverityCritical:
		return "🔴 "
	case SeverityInfo:
		return "ℹ️ "
	}
	return "⚠️ "
}

// stripMark removes a title's severity or resolution mark.
func stripMark(title string) string {
	for _, mark := range []string{"🔴 ", "⚠️ ", "ℹ️ ", "✅ PULIH: ", "✅ RESOLVED: "} {
		title = strings.TrimPrefix(title, mark)
	}
	return title
}

// sincePrefix introduces a start time in a grouped message's line.
func sincePrefix(lang string) string {
	if lang == "en" {
		return "since "
	}
	return "sejak "
}

func siteOf(inv *inventory.Inventory, id string) *inventory.Site {
	if inv == nil || id == "" {
		return nil
	}
	return inv.Site(id)
}

// zoneOf is the site's zone, else WIB.
func zoneOf(inv *inventory.Inventory, site string) *time.Location {
	if s := siteOf(inv, site); s != nil && s.Location != nil {
		return s.Location
	}
	return wib
}

var wib = time.FixedZone("WIB", 7*3600)

// messageData is what message templates see.
type messageData struct {
	*Alert
	now      time.Time
	Lang     string
	Resolved bool
	SiteName string
	Affected int
	Zone     *time.Location
}

// measured tells whether the SLA engine measured the alert's outage.
func (d *messageData) measured() bool { return !d.DownFrom.IsZero() && d.DownUntil.After(d.DownFrom) }

// Since is when the problem began, in the site's zone: the first failed
// round of a measured link outage (to the second), else when the
// condition first held.
func (d *messageData) Since() string {
	if d.measured() {
		return localTimeSec(d.DownFrom, d.Zone)
	}
	return localTime(d.ActiveAt, d.Zone)
}

// Until is when the problem ended, in the site's zone: the first good
// round after a measured link outage, else when the condition last held.
func (d *messageData) Until() string {
	if d.measured() {
		return localTimeSec(d.DownUntil, d.Zone)
	}
	return localTime(d.LastTrue, d.Zone)
}

// Duration is how long the problem lasted, in words, to the second: the
// measured outage's, else the time the condition held.
func (d *messageData) Duration() string {
	if d.measured() {
		return duration(d.DownUntil.Sub(d.DownFrom), d.Lang)
	}
	return duration(d.LastTrue.Sub(d.ActiveAt), d.Lang)
}

func localTime(t time.Time, loc *time.Location) string {
	return localFormat(t, loc, "2006-01-02 15:04")
}

// localTimeSec is localTime to the second.
func localTimeSec(t time.Time, loc *time.Location) string {
	return localFormat(t, loc, "2006-01-02 15:04:05")
}

func localFormat(t time.Time, loc *time.Location, layout string) string {
	t = t.In(loc)
	name, _ := t.Zone()
	switch name {
	case "+07", "WIB":
		name = "WIB"
	case "+08", "WITA":
		name = "WITA"
	case "+09", "WIT":
		name = "WIT"
	}
	return t.Format(layout) + " " + name
}

// duration writes d to the second ("1 jam 5 menit 10 detik", "3 min
// 23 s"), leaving out units that are zero; under a second is "< 1 detik".
func duration(d time.Duration, lang string) string {
	d = d.Truncate(time.Second)
	units := [3]string{"jam", "menit", "detik"}
	less := "< 1 detik"
	if lang == "en" {
		units, less = [3]string{"h", "min", "s"}, "< 1 s"
	}
	if d <= 0 {
		return less
	}
	var parts []string
	for i, n := range []int64{int64(d / time.Hour), int64(d/time.Minute) % 60, int64(d/time.Second) % 60} {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, units[i]))
		}
	}
	return strings.Join(parts, " ")
}

// render builds the notification of an alert.
func render(r *Rule, d *messageData) *notify.Message {
	m := &notify.Message{Status: "firing", Severity: d.Severity, StartsAt: d.ActiveAt.UTC()}
	if d.Resolved {
		m.Status = "resolved"
		m.EndsAt = d.LastTrue.UTC()
		if d.measured() { // the outage the SLA engine measured, as the text says
			m.StartsAt, m.EndsAt = d.DownFrom.UTC(), d.DownUntil.UTC()
		}
	}
	m.Labels = maps.Clone(d.Labels)
	m.Labels["alertname"] = d.Rule
	m.Labels["severity"] = d.Severity
	title, text := defaultMessage(d)
	tt, xt := r.title, r.text
	if m, ok := builtinMessages[r.Name]; ok && r.Kind == KindPromQL && tt == nil && xt == nil {
		tt, xt = m[0], m[1]
	}
	if tt != nil {
		title = execTemplate(tt, d, title)
	}
	if xt != nil {
		text = execTemplate(xt, d, text)
	}
	m.Title, m.Text = title, text
	return m
}

func execTemplate(t *template.Template, d *messageData, fallback string) string {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return fallback
	}
	return strings.TrimSpace(b.String())
}

// sortedLabels lists labels as k=v, for the generic message.
func sortedLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ", ")
}
