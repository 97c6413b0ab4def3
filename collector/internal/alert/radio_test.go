package alert

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

const radioAlertInventory = `
sites:
  - {id: desa, name: Kantor Desa Aimas, kind: district, timezone: WIT}
links:
  - {id: ptp-a, site: desa, type: radio, icmp: {target: 127.0.0.5}, snmp: {device: ap-a, interface: wlan1}}
  - {id: ptp-b, site: desa, type: radio, icmp: {target: 127.0.0.6}, snmp: {device: ap-b, interface: wlan1}, thresholds: {signal_dbm: -85}}
  - {id: fo, site: desa, type: fibre, icmp: {target: 127.0.0.7}, snmp: {device: rtr, interface: ether1}}
`

// radioEval is a KindEval over a TSDB holding one reading per series,
// a minute before now.
func radioEval(t *testing.T, now time.Time, series map[string]float64) *KindEval {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(radioAlertInventory))
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kv := strings.Split(k, ",")
		if _, err := app.Append(0, labels.FromStrings(kv...), now.Add(-time.Minute).UnixMilli(), series[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return NewKindEval(db, sla.NewBuilder(inv, func() time.Time { return now }), slog.New(slog.DiscardHandler))
}

// radio_signal_low: the weakest reading of a link's interface (peers
// included) against the link's thresholds.signal_dbm (ptp-a −75 by the
// radio default, ptp-b −85 of its own); fibre has none. With a rule
// threshold, that one.
func TestEvalRadioSignalLow(t *testing.T) {
	now := time.Now()
	const m = "__name__,pantau_snmp_radio_signal_dbm,"
	ev := radioEval(t, now, map[string]float64{
		m + "device,ap-a,ifname,wlan1,link,ptp-a,peer,4c:5e:0c:ab:cd:01": -62,
		m + "device,ap-a,ifname,wlan1,link,ptp-a,peer,4c:5e:0c:ab:cd:02": -79, // the weakest: below −75
		m + "device,ap-b,ifname,wlan1,link,ptp-b":                        -80, // above its −85
		m + "device,rtr,ifname,ether1,link,fo":                           -95, // fibre: no threshold
		m + "device,ap-x,ifname,wlan1":                                   -99, // no link
	})
	got, err := ev.Eval(context.Background(), &Rule{Name: "RadioSignalLow", Kind: KindRadioSignalLow}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != -79 || fmt.Sprint(got[0].Labels) != "map[device:ap-a ifname:wlan1 link:ptp-a site:desa]" {
		t.Errorf("samples %+v, want ptp-a at -79", got)
	}
	got, err = ev.Eval(context.Background(), &Rule{Name: "RadioSignalLow", Kind: KindRadioSignalLow, Threshold: -70}, now)
	if err != nil {
		t.Fatal(err)
	}
	var links []string
	for _, s := range got {
		links = append(links, s.Labels["link"])
	}
	slices.Sort(links)
	if fmt.Sprint(links) != "[fo ptp-a ptp-b]" {
		t.Errorf("with threshold -70: links %v, want fo ptp-a ptp-b", links)
	}
}

// on_battery: every UPS reporting on_battery=1.
func TestEvalOnBattery(t *testing.T) {
	now := time.Now()
	const m = "__name__,pantau_snmp_ups_on_battery,"
	ev := radioEval(t, now, map[string]float64{
		m + "agent,agent-desa,device,ups-desa,site,desa": 1,
		m + "agent,agent-kota,device,ups-kota,site,kota": 0,
	})
	got, err := ev.Eval(context.Background(), &Rule{Name: "OnBattery", Kind: KindOnBattery}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Labels["device"] != "ups-desa" || got[0].Labels["site"] != "desa" {
		t.Errorf("samples %+v, want ups-desa", got)
	}
}

// The default messages in Bahasa Indonesia and English.
func TestRadioAndBatteryMessages(t *testing.T) {
	for _, c := range []struct {
		kind, lang string
		labels     map[string]string
		value      float64
		want       []string
	}{
		{KindRadioSignalLow, "id", map[string]string{"link": "ptp-a", "site": "desa", "device": "ap-a"}, -79,
			[]string{"Sinyal radio lemah -79 dBm pada ptp-a — Kantor Desa", "periksa arah antena"}},
		{KindRadioSignalLow, "en", map[string]string{"link": "ptp-a", "site": "desa"}, -79,
			[]string{"Weak radio signal -79 dBm on ptp-a", "check antenna alignment"}},
		{KindOnBattery, "id", map[string]string{"device": "ups-desa", "site": "desa"}, 1,
			[]string{"UPS ups-desa memakai baterai (listrik padam) — Kantor Desa", "berpenyebab listrik"}},
		{KindOnBattery, "en", map[string]string{"device": "ups-desa", "site": "desa"}, 1,
			[]string{"UPS ups-desa on battery (mains lost)", "attributed to power"}},
	} {
		d := &messageData{Alert: &Alert{Kind: c.kind, Labels: c.labels, Value: c.value, Severity: SeverityWarning}, Lang: c.lang, SiteName: "Kantor Desa", Zone: time.UTC}
		title, text := defaultMessage(d)
		all := title + "\n" + text
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s %s: message lacks %q:\n%s", c.kind, c.lang, w, all)
			}
		}
	}
}

// A rule threshold for radio_signal_low is a dBm value.
func TestRadioRuleThresholdValidated(t *testing.T) {
	for _, c := range []struct {
		thr float64
		bad bool
	}{{0, false}, {-75, false}, {5, true}, {-200, true}} {
		r := Rule{Name: "RadioSignalLow", Kind: KindRadioSignalLow, Threshold: c.thr}
		if got := r.Query(); !strings.Contains(got, "pantau_snmp_radio_signal_dbm") {
			t.Errorf("query %q", got)
		}
		cfg := Config{Rules: []Rule{r}}
		probs := yamlconf.NewProblems(&yamlconf.Doc{File: "collector.yml"})
		cfg.Validate(probs, "alerting", nil)
		err := probs.Err()
		if (err != nil) != c.bad {
			t.Errorf("threshold %v: error %v, want bad=%v", c.thr, err, c.bad)
		}
	}
}
