package alert

import (
	"fmt"
	"regexp"
	"slices"
	"text/template"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// Rule kinds.
const (
	KindLinkDown       = "link_down"       // an inventory link's current state is down
	KindServiceDown    = "service_down"    // an inventory service's current state is down
	KindLoss           = "loss"            // ICMP loss ratio over Threshold
	KindLatency        = "latency"         // ICMP mean RTT over Threshold seconds
	KindUtilization    = "utilization"     // an inventory link's traffic over Threshold of its contracted bandwidth
	KindInterfaceDown  = "interface_down"  // oper-down while admin-up
	KindDeviceRebooted = "device_rebooted" // SNMP uptime went backwards
	KindAgentSilent    = "agent_silent"    // no heartbeat from an agent for For
	KindQueueBacklog   = "queue_backlog"   // an agent's oldest queued point older than Threshold seconds
	KindPromQL         = "promql"          // every series of Expr is an alert
	// KindRadioSignalLow: a link's weakest snmp_radio signal_dbm below the
	// link's thresholds.signal_dbm, or below Threshold (dBm) when set
	KindRadioSignalLow = "radio_signal_low"
	KindOnBattery      = "on_battery" // a UPS reports on_battery=1 (snmp_ups)
	// The fleet kinds (fleet.go) judge what agents report over OpAMP.
)

// Kinds lists the rule kinds.
var Kinds = []string{KindLinkDown, KindServiceDown, KindLoss, KindLatency, KindUtilization, KindInterfaceDown, KindDeviceRebooted, KindAgentSilent, KindQueueBacklog, KindPromQL,
	KindRadioSignalLow, KindOnBattery, KindConfigNotApplied, KindAgentOutdated, KindClockSkew}

// Severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Config is the `alerting:` section of collector.yml.
type Config struct {
	// EvaluationInterval is how often rules are evaluated (default 15s).
	EvaluationInterval yamlconf.Duration `yaml:"evaluation_interval"`
	// Lang of the default messages: id (default) or en.
	Lang string `yaml:"lang"`
	// DashboardURL is linked from messages ("" none).
	DashboardURL string `yaml:"dashboard_url"`
	// RepeatInterval re-sends a firing alert (default 4h; 0 never).
	RepeatInterval *yamlconf.Duration `yaml:"repeat_interval"`
	// HAPeer makes this collector the standby of an HA pair (ha.go).
	HAPeer          string            `yaml:"ha_peer"`
	HACheckInterval yamlconf.Duration `yaml:"ha_check_interval"`
	// Routes send alerts to notifiers by label; without routes every
	// alert goes to every notifier.
	Routes []Route `yaml:"routes"`
	// Rules; without any, DefaultRules apply.
	Rules []Rule `yaml:"rules"`
	// InhibitRules mute the alerts a source alert explains, as
	// Alertmanager's inhibit_rules do; unset: DefaultInhibitRules, an
	// empty list: none.
	InhibitRules *[]InhibitRule `yaml:"inhibit_rules"`
	// Console lets allow-listed Telegram chats and users ask for the
	// state and acknowledge and silence alerts.
	Console ConsoleConfig `yaml:"console"`
}

// ConsoleConfig is the Telegram console.
type ConsoleConfig struct {
	Notifier     string  `yaml:"notifier"`      // a telegram notifier whose bot answers ("" off)
	AllowedChats []int64 `yaml:"allowed_chats"` // chat ids commands are taken from
	AllowedUsers []int64 `yaml:"allowed_users"` // if set, only these users may command
}

// Route sends the alerts it matches to its notifiers.
type Route struct {
	Match     map[string]string `yaml:"match"`     // label → exact value, all must match
	Severity  []string          `yaml:"severity"`  // any of these (empty: any)
	Notifiers []string          `yaml:"notifiers"` // names under notifiers:
	Continue  bool              `yaml:"continue"`  // also try the next routes
	// GroupBy combines the alerts with the same values of these labels
	// that fire (or resolve) within GroupWait into one message.
	GroupBy   []string          `yaml:"group_by"`
	GroupWait yamlconf.Duration `yaml:"group_wait"` // default 30s with group_by
}

// Rule is one alert rule.
type Rule struct {
	Name      string             `yaml:"name"`
	Kind      string             `yaml:"kind"`
	For       yamlconf.Duration  `yaml:"for"`       // how long the condition must hold before firing
	ClearFor  *yamlconf.Duration `yaml:"clear_for"` // how long it must be clear before resolving (flap damping; default 2m)
	Threshold float64            `yaml:"threshold"`
	Expr      string             `yaml:"expr"`     // promql
	Severity  string             `yaml:"severity"` // default per kind
	Labels    map[string]string  `yaml:"labels"`
	Title     string             `yaml:"title"` // text/template; default per kind and language
	Text      string             `yaml:"text"`

	title, text *template.Template
}

// InhibitRule is one of Alertmanager's inhibit_rules: while an alert
// that matches every source matcher is pending or firing, the alerts that
// match every target matcher and carry the same values of the equal
// labels are inhibited: not notified, and shown with inhibited_by.
// Matchers are PromQL/Alertmanager label matchers (name="v", name!="v",
// name=~"re", name!~"re") over an alert's labels with alertname and
// severity. Besides the rules' alerts, every inventory site all of whose
// links are down is a source {alertname="SiteDown", site="<id>"}.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// SiteDownAlert is the alertname of the inhibition source a down site
// is (every one of its inventory links has a LinkDown alert).
const SiteDownAlert = "SiteDown"

// DefaultInhibitRules apply when the config sets no inhibit_rules: a
// down link inhibits its own loss, latency and utilisation alerts, and a
// down site the alerts of its services.
func DefaultInhibitRules() []InhibitRule {
	return []InhibitRule{
		{SourceMatchers: []string{`alertname="LinkDown"`}, TargetMatchers: []string{`alertname=~"HighLoss|HighLatency|HighUtilization"`}, Equal: []string{"link"}},
		{SourceMatchers: []string{`alertname="SiteDown"`}, TargetMatchers: []string{`service!=""`}, Equal: []string{"site"}},
	}
}

// DefaultRules apply when the config has none.
func DefaultRules() []Rule {
	d := func(s string) yamlconf.Duration { v, _ := yamlconf.ParseDuration(s); return yamlconf.Duration(v) }
	return []Rule{
		// two failed rounds in a row at the agent's default 30 s interval:
		// a cut link notifies within about a minute (docs/alerting.md)
		{Name: "LinkDown", Kind: KindLinkDown, For: d("30s")},
		{Name: "ServiceDown", Kind: KindServiceDown, For: d("3m")},
		{Name: "AgentSilent", Kind: KindAgentSilent, For: d("5m")},
		{Name: "HighLoss", Kind: KindLoss, Threshold: 0.2, For: d("5m")},
		{Name: "HighUtilization", Kind: KindUtilization, Threshold: 0.9, For: d("15m")},
		{Name: "DeviceRebooted", Kind: KindDeviceRebooted},
		// vendor profiles: a radio link near its fade margin, mains lost
		{Name: "RadioSignalLow", Kind: KindRadioSignalLow, For: d("5m")},
		{Name: "OnBattery", Kind: KindOnBattery, For: d("1m")},
		{Name: "QueueBacklog", Kind: KindQueueBacklog, Threshold: 900, For: d("5m")},
		// Fleet (agents managed over OpAMP; others are never judged).
		{Name: "ConfigNotApplied", Kind: KindConfigNotApplied, For: d("10m")},
		{Name: "AgentOutdated", Kind: KindAgentOutdated, For: d("1h")},
		{Name: "ClockSkew", Kind: KindClockSkew, Threshold: 10, For: d("5m")},
		// The collector's own storage: damaged files it set aside, and
		// writes it refused (each stored after the store recovered).
		{Name: "StorageDataSetAside", Kind: KindPromQL, Expr: `pantau_collector_storage_set_aside_bytes{damage="corrupt"} > 0`},
		{Name: "StorageWriteFailed", Kind: KindPromQL, Expr: `sum by (kind) (increase(pantau_collector_storage_write_failures_total[1h])) > 0`},
	}
}

// builtinMessages are the title and text of the default promql rules,
// used when such a rule (by name) sets neither.
var builtinMessages = map[string][2]*template.Template{
	"StorageDataSetAside": {template.Must(template.New("t").Parse(storageSetAsideTitle)), template.Must(template.New("x").Parse(storageSetAsideText))},
	"StorageWriteFailed":  {template.Must(template.New("t").Parse(storageWriteFailedTitle)), template.Must(template.New("x").Parse(storageWriteFailedText))},
}

// Messages of the storage rules, Bahasa Indonesia unless lang: en.
const (
	storageSetAsideTitle = `{{if .Resolved}}✅ {{if eq .Lang "en"}}RESOLVED: no damaged storage files left{{else}}PULIH: tidak ada lagi berkas penyimpanan rusak{{end}}` +
		`{{else}}⚠️ {{if eq .Lang "en"}}Collector set aside damaged storage files{{else}}Kolektor menyisihkan berkas penyimpanan yang rusak{{end}}{{end}}`
	storageSetAsideText = `{{if eq .Lang "en"}}The collector found damaged write-ahead log or chunk files, kept their intact records and moved the originals to data_dir/corrupt ({{printf "%.0f" .Value}} bytes). ` +
		`What could not be read is lost; the collector's log ("damaged write-log segment") names the files and estimates the samples. Check the disk, then delete data_dir/corrupt/<time>: the alert resolves.` +
		`{{else}}Kolektor menemukan berkas write-ahead log atau chunk yang rusak, menyimpan rekaman yang utuh, dan memindahkan berkas aslinya ke data_dir/corrupt ({{printf "%.0f" .Value}} byte). ` +
		`Bagian yang tidak terbaca hilang; log kolektor ("damaged write-log segment") menyebut berkasnya dan perkiraan jumlah sampel. Periksa disk, lalu hapus data_dir/corrupt/<waktu>: peringatan ini pulih.{{end}}`
	storageWriteFailedTitle = `{{if .Resolved}}✅ {{if eq .Lang "en"}}RESOLVED: collector storage writes{{else}}PULIH: penulisan penyimpanan kolektor{{end}}` +
		`{{else}}⚠️ {{if eq .Lang "en"}}Collector refused writes: storage failure ({{.Labels.kind}}){{else}}Kolektor menolak data: penyimpanan gagal ({{.Labels.kind}}){{end}}{{end}}`
	storageWriteFailedText = `{{if eq .Lang "en"}}In the last hour the collector could not make writes durable ({{.Labels.kind}}: a full disk, most often) and answered the agents 503 until it recovered; they send the data again. ` +
		`Free disk space if it is short; /readyz says whether it is writable now.` +
		`{{else}}Dalam satu jam terakhir kolektor tidak dapat menyimpan data dengan aman ({{.Labels.kind}}: paling sering disk penuh) dan menjawab agen dengan 503 sampai pulih; agen mengirim ulang datanya. ` +
		`Kosongkan ruang disk bila kurang; /readyz menunjukkan apakah kolektor sudah dapat menulis lagi.{{end}}`
)

var (
	ruleName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// DefaultConfig is the alerting section when collector.yml has none.
func DefaultConfig() Config {
	var c Config
	c.Defaults()
	return c
}

// Defaults fills unset values.
func (c *Config) Defaults() {
	if c.EvaluationInterval == 0 {
		c.EvaluationInterval = yamlconf.Duration(15 * time.Second)
	}
	if c.Lang == "" {
		c.Lang = "id"
	}
	if c.HACheckInterval == 0 {
		c.HACheckInterval = yamlconf.Duration(DefaultHACheckInterval)
	}
	if c.RepeatInterval == nil {
		r := yamlconf.Duration(4 * time.Hour)
		c.RepeatInterval = &r
	}
	if c.Routes == nil {
		c.Routes = []Route{}
	}
	if len(c.Rules) == 0 {
		c.Rules = DefaultRules()
	}
	if c.InhibitRules == nil {
		ir := DefaultInhibitRules()
		c.InhibitRules = &ir
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ClearFor == nil {
			d := yamlconf.Duration(2 * time.Minute)
			r.ClearFor = &d
		}
		if r.Severity == "" {
			r.Severity = SeverityWarning
			if r.Kind == KindLinkDown || r.Kind == KindServiceDown || r.Kind == KindAgentSilent {
				r.Severity = SeverityCritical
			}
			if r.Kind == KindDeviceRebooted || r.Kind == KindAgentOutdated {
				r.Severity = SeverityInfo
			}
		}
	}
}

// Validate fills defaults and appends every problem to probs, with paths
// under prefix ("alerting"); notifiers are the configured notifier names.
func (c *Config) Validate(probs *yamlconf.Problems, prefix string, notifiers []string) {
	c.Defaults()
	add := func(path, format string, args ...any) { probs.Add(prefix+"."+path, format, args...) }
	if d := c.EvaluationInterval.Std(); d < time.Second || d > 10*time.Minute {
		add("evaluation_interval", "must be between 1s and 10m (got %s)", c.EvaluationInterval)
	}
	probs.OneOf(prefix+".lang", c.Lang, "id", "en")
	c.validateHA(add)
	if c.RepeatInterval.Std() < 0 {
		add("repeat_interval", "must not be negative (got %s)", *c.RepeatInterval)
	}
	for i := range c.Routes {
		rt := &c.Routes[i]
		if len(rt.GroupBy) > 0 && rt.GroupWait == 0 {
			rt.GroupWait = yamlconf.Duration(30 * time.Second)
		}
		p := fmt.Sprintf("routes[%d]", i)
		for _, k := range rt.GroupBy {
			if !labelName.MatchString(k) {
				add(p+".group_by", "%q is not a label name", k)
			}
		}
		if rt.GroupWait < 0 || rt.GroupWait.Std() > 10*time.Minute {
			add(p+".group_wait", "must be between 0 and 10m (got %s)", rt.GroupWait)
		}
		if len(rt.Notifiers) == 0 {
			add(p+".notifiers", "must name at least one notifier")
		}
		for j, n := range rt.Notifiers {
			if !slices.Contains(notifiers, n) {
				add(fmt.Sprintf("%s.notifiers[%d]", p, j), "no notifier named %q under notifiers: (have %s)", n, yamlconf.QuoteList(notifiers))
			}
		}
		for k := range rt.Match {
			if !labelName.MatchString(k) {
				add(p+".match", "%q is not a label name", k)
			}
		}
		for j, s := range rt.Severity {
			probs.OneOf(fmt.Sprintf("%s.severity[%d]", p, j), s, SeverityCritical, SeverityWarning, SeverityInfo)
		}
	}
	if cn := c.Console.Notifier; cn != "" {
		if !slices.Contains(notifiers, cn) {
			add("console.notifier", "no notifier named %q under notifiers: (have %s)", cn, yamlconf.QuoteList(notifiers))
		}
		if len(c.Console.AllowedChats) == 0 {
			add("console.allowed_chats", "list the chat ids commands are taken from (the NOC group's id, such as -1001234567890)")
		}
	}
	for i := range *c.InhibitRules {
		ir := &(*c.InhibitRules)[i]
		p := fmt.Sprintf("inhibit_rules[%d]", i)
		if len(ir.SourceMatchers) == 0 {
			add(p+".source_matchers", `list at least one matcher, such as 'alertname="LinkDown"'`)
		}
		if len(ir.TargetMatchers) == 0 {
			add(p+".target_matchers", `list at least one matcher, such as 'alertname="HighLoss"'`)
		}
		parseMatchers(probs, prefix+"."+p+".source_matchers", ir.SourceMatchers)
		parseMatchers(probs, prefix+"."+p+".target_matchers", ir.TargetMatchers)
		for j, k := range ir.Equal {
			if !labelName.MatchString(k) {
				add(fmt.Sprintf("%s.equal[%d]", p, j), "%q is not a label name", k)
			}
		}
	}
	names := map[string]int{}
	for i := range c.Rules {
		r := &c.Rules[i]
		p := fmt.Sprintf("rules[%d]", i)
		if !ruleName.MatchString(r.Name) {
			add(p+".name", "must be a letter then letters, digits or _ (at most 64), such as LinkDown (got %q)", r.Name)
		} else if j, dup := names[r.Name]; dup {
			add(p+".name", "%q is already the name of rules[%d]", r.Name, j)
		}
		names[r.Name] = i
		probs.OneOf(prefix+"."+p+".kind", r.Kind, Kinds...)
		probs.OneOf(prefix+"."+p+".severity", r.Severity, SeverityCritical, SeverityWarning, SeverityInfo)
		if r.For < 0 || r.For.Std() > 24*time.Hour {
			add(p+".for", "must be between 0 and 24h (got %s)", r.For)
		}
		if r.ClearFor.Std() < 0 || r.ClearFor.Std() > 24*time.Hour {
			add(p+".clear_for", "must be between 0 and 24h (got %s)", *r.ClearFor)
		}
		switch r.Kind {
		case KindLoss, KindUtilization:
			if r.Threshold <= 0 || r.Threshold > 1 {
				add(p+".threshold", "is a ratio between 0 and 1, such as 0.2 for 20 %% (got %v)", r.Threshold)
			}
		case KindRadioSignalLow:
			if r.Threshold != 0 && (r.Threshold <= -130 || r.Threshold >= 0) {
				add(p+".threshold", "is a signal strength in dBm between -130 and 0, such as -75; leave it out to use each link's thresholds.signal_dbm (got %v)", r.Threshold)
			}
		case KindLatency:
			if r.Threshold <= 0 || r.Threshold > 60 {
				add(p+".threshold", "is the mean RTT in seconds, such as 0.15 (got %v)", r.Threshold)
			}
		case KindQueueBacklog:
			if r.Threshold <= 0 {
				add(p+".threshold", "is the age of the oldest queued point in seconds, such as 900 (got %v)", r.Threshold)
			}
		case KindClockSkew:
			if r.Threshold <= 0 || r.Threshold > 3600 {
				add(p+".threshold", "is the clock offset in seconds an agent may have, such as 10 (got %v)", r.Threshold)
			}
		case KindConfigNotApplied:
			if r.For.Std() < time.Minute {
				add(p+".for", "is how long an offered config may stay unapplied; at least 1m (got %s)", r.For)
			}
		case KindAgentSilent:
			if r.For.Std() < time.Minute {
				add(p+".for", "is how long an agent may be silent; at least 1m (got %s)", r.For)
			}
		case KindPromQL:
			if r.Expr == "" {
				add(p+".expr", "a promql rule needs an expression")
			} else if _, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr); err != nil {
				add(p+".expr", "does not parse: %v", err)
			}
		}
		if r.Expr != "" && r.Kind != KindPromQL {
			add(p+".expr", "only promql rules take an expression")
		}
		for k := range r.Labels {
			if !labelName.MatchString(k) {
				add(p+".labels", "%q is not a label name", k)
			}
		}
		var err error
		if r.title, err = parseTemplate(r.Title); err != nil {
			add(p+".title", "does not parse as a template: %v", err)
		}
		if r.text, err = parseTemplate(r.Text); err != nil {
			add(p+".text", "does not parse as a template: %v", err)
		}
	}
}

// parseMatchers parses label matchers (one per entry), adding a problem
// at path[i] for each that does not parse.
func parseMatchers(probs *yamlconf.Problems, path string, ss []string) []*labels.Matcher {
	var out []*labels.Matcher
	p := parser.NewParser(parser.Options{})
	for i, s := range ss {
		ms, err := p.ParseMetricSelector("{" + s + "}")
		switch {
		case err != nil:
			probs.Add(fmt.Sprintf("%s[%d]", path, i), `%q is not a label matcher such as alertname="LinkDown" or alertname=~"High.*": %v`, s, err)
		case len(ms) != 1:
			probs.Add(fmt.Sprintf("%s[%d]", path, i), "%q: give one matcher per entry (got %d)", s, len(ms))
		default:
			out = append(out, ms[0])
		}
	}
	return out
}

func parseTemplate(s string) (*template.Template, error) {
	if s == "" {
		return nil, nil
	}
	return template.New("").Option("missingkey=zero").Parse(s)
}
