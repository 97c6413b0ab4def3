// Package dashboards holds Pantau's Grafana dashboards. They are written
// here in Go and generated into the JSON files next to this file, which
// Grafana provisions (deploy/grafana). Edit the Go code, never the JSON:
//
//	go generate ./dashboards   (or: go run ./dashboards/gen)
//
// A test fails when the committed JSON differs from what the code
// generates, when a query does not parse as PromQL or names a series that
// neither the wire schema nor the collector has, and when a panel shows no
// data against the demo collector.
package dashboards

//go:generate go run ./gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// obj is a JSON object; encoding/json writes its keys sorted, so the
// generated files are stable.
type obj = map[string]any

// Datasource is the only data source reference the dashboards use: the
// ${datasource} variable, of type prometheus.
func Datasource() obj { return obj{"type": "prometheus", "uid": "${datasource}"} }

// Files returns every dashboard as file name → JSON (two-space indent,
// trailing newline).
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, b := range boards() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(b.json()); err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
		}
		out[b.uid+".json"] = buf.Bytes()
	}
	return out, nil
}

func boards() []*board {
	return []*board{nocBoard(), siteBoard(), slaBoard(), agentsBoard()}
}

// board is one dashboard being laid out: panels flow left to right on a
// 24-column grid and wrap.
type board struct {
	uid, title, desc string
	tags             []string
	from, refresh    string
	vars             []obj
	panels           []obj
	x, y, lineH      int
}

func newBoard(uid, title, desc, from, refresh string, vars ...obj) *board {
	return &board{uid: uid, title: title, desc: desc, from: from, refresh: refresh,
		tags: []string{"pantau"}, vars: append([]obj{datasourceVar()}, vars...)}
}

// row starts a new row (a full-width row header).
func (b *board) row(title string) {
	b.newline()
	b.panels = append(b.panels, obj{
		"type": "row", "title": title, "collapsed": false, "panels": []any{},
		"id":      len(b.panels) + 1,
		"gridPos": obj{"h": 1, "w": 24, "x": 0, "y": b.y},
	})
	b.y++
}

func (b *board) newline() {
	if b.x > 0 {
		b.x, b.y, b.lineH = 0, b.y+b.lineH, 0
	}
}

// add places p, w columns wide and h rows high.
func (b *board) add(w, h int, p panel) {
	if b.x+w > 24 {
		b.newline()
	}
	o := p.json()
	o["id"] = len(b.panels) + 1
	o["gridPos"] = obj{"h": h, "w": w, "x": b.x, "y": b.y}
	b.panels = append(b.panels, o)
	b.x += w
	b.lineH = max(b.lineH, h)
	if b.x >= 24 {
		b.newline()
	}
}

func (b *board) json() obj {
	return obj{
		"id": nil, "uid": b.uid, "title": b.title, "description": b.desc,
		"tags": b.tags, "schemaVersion": 39, "version": 1, "editable": true,
		"graphTooltip": 1, "timezone": "browser", "fiscalYearStartMonth": 0, "liveNow": false,
		"weekStart":  "monday",
		"time":       obj{"from": b.from, "to": "now"},
		"timepicker": obj{},
		"refresh":    b.refresh,
		"templating": obj{"list": b.vars},
		// Grafana adds its built-in annotation query itself.
		"annotations": obj{"list": []any{}},
		"links": []any{obj{
			"title": "Dasbor Pantau", "type": "dashboards", "tags": []any{"pantau"},
			"asDropdown": true, "includeVars": true, "keepTime": true, "icon": "external link",
			"targetBlank": false, "tooltip": "", "url": "",
		}},
		"panels": b.panels,
	}
}

// target is one PromQL query of a panel.
type target struct {
	expr, legend string
	instant      bool   // an instant query (tables, stats, the map)
	table        bool   // format table (one column per label)
	interval     string // minimum step
}

func (t target) json(ref string) obj {
	o := obj{
		"datasource": Datasource(), "refId": ref, "expr": t.expr, "editorMode": "code",
		"range": !t.instant, "instant": t.instant, "format": "time_series", "legendFormat": "__auto",
	}
	if t.legend != "" {
		o["legendFormat"] = t.legend
	}
	if t.table {
		o["format"] = "table"
	}
	if t.interval != "" {
		o["interval"] = t.interval
	}
	return o
}

// ts is a range query drawn as one series per legend.
func ts(expr, legend string) target { return target{expr: expr, legend: legend} }

// inst is an instant query with a legend (stats, bar gauges).
func inst(expr, legend string) target { return target{expr: expr, legend: legend, instant: true} }

// tbl is an instant query formatted as a table.
func tbl(expr string) target { return target{expr: expr, instant: true, table: true} }

// panel is one visualization.
type panel struct {
	typ, title, desc string
	unit             string
	decimals         *int
	min, max         *float64
	thresholds       []any // steps
	colorMode        string
	mappings         []any
	custom           obj
	options          obj
	overrides        []any
	transformations  []any
	targets          []target
	repeat           string
	links            []any
}

func (p panel) json() obj {
	defaults := obj{}
	if p.unit != "" {
		defaults["unit"] = p.unit
	}
	if p.decimals != nil {
		defaults["decimals"] = *p.decimals
	}
	if p.min != nil {
		defaults["min"] = *p.min
	}
	if p.max != nil {
		defaults["max"] = *p.max
	}
	th := p.thresholds
	if th == nil {
		th = steps("green")
	}
	defaults["thresholds"] = obj{"mode": "absolute", "steps": th}
	cm := p.colorMode
	if cm == "" {
		cm = "palette-classic"
	}
	defaults["color"] = obj{"mode": cm}
	if p.mappings != nil {
		defaults["mappings"] = p.mappings
	} else {
		defaults["mappings"] = []any{}
	}
	if p.custom != nil {
		defaults["custom"] = p.custom
	}
	if p.links != nil {
		defaults["links"] = p.links
	}
	ov := p.overrides
	if ov == nil {
		ov = []any{}
	}
	var tg []any
	for i, t := range p.targets {
		tg = append(tg, t.json(string(rune('A'+i))))
	}
	o := obj{
		"type": p.typ, "title": p.title, "description": p.desc,
		"datasource":  Datasource(),
		"fieldConfig": obj{"defaults": defaults, "overrides": ov},
		"options":     p.options,
		"targets":     tg,
	}
	if p.options == nil {
		o["options"] = obj{}
	}
	if p.transformations != nil {
		o["transformations"] = p.transformations
	}
	if p.repeat != "" {
		o["repeat"] = p.repeat
		o["repeatDirection"] = "h"
		o["maxPerRow"] = 2
	}
	return o
}

// steps returns threshold steps: a base colour, then value, colour pairs.
func steps(base string, pairs ...any) []any {
	out := []any{obj{"color": base, "value": nil}}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, obj{"value": pairs[i], "color": pairs[i+1]})
	}
	return out
}

func intp(v int) *int           { return &v }
func floatp(v float64) *float64 { return &v }

// override sets properties (id, value pairs) on the fields named name.
func override(name string, props ...any) obj {
	var ps []any
	for i := 0; i+1 < len(props); i += 2 {
		ps = append(ps, obj{"id": props[i], "value": props[i+1]})
	}
	return obj{"matcher": obj{"id": "byName", "options": name}, "properties": ps}
}

func fixedColor(c string) obj { return obj{"mode": "fixed", "fixedColor": c} }

var dashed = obj{"fill": "dash", "dash": []any{10, 10}}

// Common option blocks.
func legendOpts(mode string) obj {
	return obj{"displayMode": mode, "placement": "bottom", "showLegend": true, "calcs": []any{}}
}

func tsOptions() obj {
	return obj{
		"legend":  legendOpts("list"),
		"tooltip": obj{"mode": "multi", "sort": "desc"},
	}
}

func tsLegendTable(calcs ...string) obj {
	l := legendOpts("table")
	c := []any{}
	for _, s := range calcs {
		c = append(c, s)
	}
	l["calcs"] = c
	return obj{"legend": l, "tooltip": obj{"mode": "multi", "sort": "desc"}}
}

func tsCustom(fill int) obj {
	return obj{
		"drawStyle": "line", "lineInterpolation": "linear", "lineWidth": 1, "fillOpacity": fill,
		"gradientMode": "none", "showPoints": "never", "pointSize": 4, "spanNulls": false,
		"axisPlacement": "auto", "axisLabel": "", "axisSoftMin": 0, "stacking": obj{"mode": "none", "group": "A"},
		"thresholdsStyle": obj{"mode": "off"},
	}
}

func statOptions(textMode string) obj {
	return obj{
		"reduceOptions": obj{"calcs": []any{"lastNotNull"}, "fields": "", "values": false},
		"colorMode":     "background", "graphMode": "none", "justifyMode": "center",
		"orientation": "auto", "textMode": textMode, "wideLayout": true, "showPercentChange": false,
	}
}

func tableOptions(sortBy string, desc bool) obj {
	o := obj{"showHeader": true, "cellHeight": "sm", "footer": obj{"show": false, "reducer": []any{"sum"}, "fields": "", "countRows": false}}
	if sortBy != "" {
		o["sortBy"] = []any{obj{"displayName": sortBy, "desc": desc}}
	}
	return o
}

func tableCustom() obj {
	return obj{"align": "auto", "cellOptions": obj{"type": "auto"}, "inspect": false, "filterable": true}
}

// tableTransforms merges the instant table queries of a panel into one
// table, hides the time column, and names the value columns (one name per
// query, in order) and label columns.
func tableTransforms(valueNames []string, labelNames map[string]string, hide ...string) []any {
	rename := obj{}
	for k, v := range labelNames {
		rename[k] = v
	}
	if len(valueNames) == 1 {
		rename["Value"] = valueNames[0]
	} else {
		for i, n := range valueNames {
			rename["Value #"+string(rune('A'+i))] = n
		}
	}
	exclude := obj{"Time": true}
	for _, h := range hide {
		exclude[h] = true
	}
	var out []any
	if len(valueNames) > 1 {
		out = append(out, obj{"id": "merge", "options": obj{}})
	}
	return append(out, obj{"id": "organize", "options": obj{
		"excludeByName": exclude, "renameByName": rename, "indexByName": obj{}, "includeByName": obj{},
	}})
}

// Label column names in Bahasa Indonesia.
var labelID = map[string]string{
	"site": "Lokasi", "link": "Jalur", "opd": "OPD", "district": "Distrik", "name": "Nama",
	"kind": "Jenis", "agent": "Agen", "version": "Versi", "service": "Layanan", "device": "Perangkat",
	"sysname": "Nama sistem", "ifname": "Antarmuka", "isp": "ISP", "circuit": "Sirkuit",
	"asset_code": "Kode aset", "plugin": "Plugin", "target": "Target", "state": "Status",
}

func labels(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = labelID[n]
	}
	return m
}

// Data links from a table's site and link columns to the detail dashboard.
func siteLink(field string) obj {
	return override(field, "links", []any{obj{
		"title": "Detail lokasi ${__value.text}", "targetBlank": false,
		"url": "/d/pantau-site/pantau-site?${__url_time_range}&${datasource:queryparam}&var-site=${__value.raw}",
	}})
}

func linkLink(field string) obj {
	return override(field, "links", []any{obj{
		"title": "Detail jalur ${__value.text}", "targetBlank": false,
		"url": "/d/pantau-site/pantau-site?${__url_time_range}&${datasource:queryparam}&var-link=${__value.raw}",
	}})
}

// --- PromQL building blocks ---------------------------------------------

// Label filters by the template variables. Series of inventory links
// (icmp, snmp_if with the labels ingest adds, pantau_link_*) carry all
// four; sites carry three; services carry opd and site; agent heartbeats,
// SNMP devices and inventory devices carry a site (the agent's, or the
// one its config tags the target with). Plugin checks carry a site only
// when the agent's token is for one site or the target is tagged with
// one, and no OPD unless tagged: they are filtered by OPD, which matches
// them all when OPD is All.
const (
	fSite   = `district=~"$district", opd=~"$opd", site=~"$site"`
	fLink   = fSite + `, link=~"$link"`
	fSvc    = `opd=~"$opd", site=~"$site"`
	fAgent  = `site=~"$site"`
	fPlugin = `opd=~"$opd"`
)

// sel is a vector selector: metric{filter, extra...}.
func sel(metric, filter string, extra ...string) string {
	m := filter
	for _, e := range extra {
		if m != "" {
			m += ", "
		}
		m += e
	}
	return metric + "{" + m + "}"
}

// States of pantau_link_state, pantau_site_state and pantau_service_state
// and the code each is drawn as (value mappings below).
var stateNames = []string{"up", "degraded", "down", "maintenance", "nodata", "monitoring"}

// stateCode turns a one-hot state gauge into one series per `by` group
// whose value is the state's code: 1 up … 6 monitoring.
func stateCode(metric, filter, by string) string {
	var parts []string
	for i, st := range stateNames {
		parts = append(parts, fmt.Sprintf("(%s == 1) * %d", sel(metric, filter, `state="`+st+`"`), i+1))
	}
	return fmt.Sprintf("max by (%s) (\n    %s\n)", by, strings.Join(parts, "\n  or "))
}

// stateMappings show a state code in words and colour (the SPBE report's
// terms).
func stateMappings() []any {
	opts := obj{}
	for i, m := range []struct{ text, color string }{
		{"Naik", "green"}, {"Terdegradasi", "orange"}, {"Putus", "red"},
		{"Pemeliharaan", "blue"}, {"Tanpa data", "#8e8e8e"}, {"Pemantau mati", "purple"},
	} {
		opts[fmt.Sprint(i+1)] = obj{"text": m.text, "color": m.color, "index": i}
	}
	return []any{obj{"type": "value", "options": opts}}
}

func stateThresholds() []any {
	return steps("green", 2, "orange", 3, "red", 4, "blue", 5, "#8e8e8e", 6, "purple")
}

// availability is (up + degraded) / (up + degraded + down) of a state
// gauge over window, per by: the SPBE report's availability, from the
// sampled current state instead of the minute records.
func availability(metric, filter, by, window string) string {
	return fmt.Sprintf("sum by (%[3]s) (sum_over_time(%[1]s[%[4]s]))\n/\nsum by (%[3]s) (sum_over_time(%[2]s[%[4]s]))",
		sel(metric, filter, `state=~"up|degraded"`), sel(metric, filter, `state=~"up|degraded|down"`), by, window)
}

// peakRate is the larger of receive and transmit bits per second of an
// inventory link's SNMP interface, per (link, site), after fn (e.g.
// "avg_over_time(%s[$__range])"; "%s" for the raw series).
func peakRate(fn string) string {
	rx := fmt.Sprintf(fn, sel("pantau_snmp_if_receive_bits_per_second", fLink))
	tx := fmt.Sprintf(fn, sel("pantau_snmp_if_transmit_bits_per_second", fLink))
	return fmt.Sprintf("max by (link, site) (\n    label_replace(%s, \"dir\", \"in\", \"__name__\", \".*\")\n  or\n    label_replace(%s, \"dir\", \"out\", \"__name__\", \".*\")\n)", rx, tx)
}

// perBandwidth divides a (link, site) vector of bits per second by the
// contracted bandwidth (a series in bytes per second, the base unit).
func perBandwidth(expr string) string {
	return fmt.Sprintf("%s\n/ on (link, site)\n(8 * max by (link, site) (%s))", expr, sel("pantau_link_bandwidth_bytes_per_second", fLink))
}

// noOPD names the group of links or sites that belong to no OPD.
func noOPD(expr string) string {
	return fmt.Sprintf("label_replace(\n%s,\n\"opd\", \"(tanpa OPD)\", \"opd\", \"\")", expr)
}

// --- template variables ---------------------------------------------------

func datasourceVar() obj {
	return obj{
		"name": "datasource", "label": "Sumber data", "type": "datasource", "query": "prometheus",
		"current": obj{"selected": false, "text": "Pantau", "value": "pantau"},
		"hide":    0, "includeAll": false, "multi": false, "options": []any{}, "refresh": 1, "regex": "",
	}
}

// queryVar is a multi-value label_values variable with All. allAny makes
// All match any value, also a missing label (district and OPD are
// optional in the inventory); otherwise All is the list of current values,
// so a chained variable (site under district) narrows what All means.
func queryVar(name, label, query string, allAny bool) obj {
	o := obj{
		"name": name, "label": label, "type": "query",
		"datasource": Datasource(),
		"definition": query,
		"query":      obj{"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
		"refresh":    2,
		"includeAll": true, "multi": true, "sort": 1, "hide": 0, "regex": "", "options": []any{},
		"current": obj{"selected": true, "text": []any{"All"}, "value": []any{"$__all"}},
	}
	if allAny {
		o["allValue"] = ".*"
	}
	return o
}

func districtVar() obj {
	return queryVar("district", "Distrik", "label_values(pantau_site_info, district)", true)
}

func opdVar() obj {
	return queryVar("opd", "OPD", `label_values(pantau_site_info{district=~"$district"}, opd)`, true)
}

func siteVar() obj {
	return queryVar("site", "Lokasi", `label_values(pantau_site_info{district=~"$district", opd=~"$opd"}, site)`, false)
}

func linkVar() obj {
	return queryVar("link", "Jalur", `label_values(pantau_link_state{district=~"$district", opd=~"$opd", site=~"$site"}, link)`, false)
}

func agentVar() obj {
	return queryVar("agent", "Agen", `label_values(pantau_agent_uptime_seconds{site=~"$site"}, agent)`, false)
}
