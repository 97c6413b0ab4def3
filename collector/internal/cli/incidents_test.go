package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestIncidentCommands: a record attached by the CLI (dates in the
// Pemda's zone, WIT here) shows in the report's incidents table beside
// the computed cause; bad input is refused naming the flag's field;
// --help explains the categories and sources; every change is audited.
func TestIncidentCommands(t *testing.T) {
	dir := t.TempDir()
	const invYAML = `sites:
  - {id: pkm, name: Puskesmas Aimas, kind: district, opd: dinkes, timezone: WIT}
links:
  - {id: pkm-wan, site: pkm, type: fibre, icmp: {target: 127.0.0.4}}
`
	invPath := filepath.Join(dir, "inventory.yml")
	os.WriteFile(invPath, []byte(invYAML), 0o600)
	data := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(data, "tsdb", "wal"), 0o755) // an empty TSDB
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("data_dir: "+data+"\ninventory: "+invPath+"\n"), 0o600)

	// pkm-wan is down 20 Oct 14:00-16:00 WIT, 120 minutes; the agent
	// stays alive (cause: isp)
	ctx := context.Background()
	inv, err := inventory.Parse(invPath, []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	wit := time.FixedZone("WIT", 9*3600)
	b := sla.NewBuilder(inv, nil)
	var marks []sla.Mark
	for tm := time.Date(2026, 10, 19, 0, 0, 0, 0, wit); tm.Before(time.Date(2026, 10, 22, 0, 0, 0, 0, wit)); tm = tm.Add(time.Minute) {
		up := tm.Before(time.Date(2026, 10, 20, 14, 0, 0, 0, wit)) || !tm.Before(time.Date(2026, 10, 20, 16, 0, 0, 0, wit))
		marks = b.ICMP(marks, "a", "", "127.0.0.4", tm.UnixNano(), up, 0, 0.01, up)
		m := sla.MinuteOf(tm.UnixNano())
		marks = append(marks, sla.Mark{Kind: sla.KindCollector, Minute: m, Bits: sla.BitSeen}, sla.Mark{Kind: sla.KindSite, ID: "pkm", Minute: m, Bits: sla.BitSeen})
	}
	if err := db.Minutes().Merge(ctx, marks); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if code, _, errOut := cli(t, "incident", "add", "--help"); code != 0 || !strings.Contains(errOut, "fo_putus") ||
		!strings.Contains(errOut, "FO putus / Fibre cut (fisik)") || !strings.Contains(errOut, "telepon") || !strings.Contains(errOut, "aplikasi_nasional") {
		t.Errorf("incident add --help: exit %d\n%s", code, errOut)
	}
	add := []string{"incident", "add", "--config", cfg, "--target", "pkm-wan", "--start", "2026-10-20T14:00", "--ticket", "TIK/2026/10/044",
		"--category", "fo_putus", "--source", "whatsapp", "--officer", "Yohanis", "--impact", "Puskesmas tanpa SIMPUS"}
	if code, stdout, errOut := cli(t, add...); code != 0 || !strings.Contains(stdout, "recorded incident 1: link pkm-wan from 2026-10-20 14:00 WIT") {
		t.Fatalf("incident add: exit %d\n%s%s", code, stdout, errOut)
	}
	if code, _, errOut := cli(t, add...); code != 1 || !strings.Contains(errOut, "already has incident record 1") {
		t.Errorf("the same outage twice: exit %d\n%s", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "pkm-wan", "--start", "2026-10-21T10:00", "--category", "banjir", "--source", "tiket", "--officer", "Y"}, `category "banjir": want one of fo_putus`},
		{[]string{"--target", "pkm-wan", "--start", "2026-10-21T10:00", "--category", "dns", "--source", "sms", "--officer", "Y"}, `source "sms": want one of otomatis`},
		{[]string{"--target", "pkm-wan", "--start", "2026-10-21T10:00", "--category", "dns", "--source", "tiket"}, "officer is required"},
		{[]string{"--target", "nope", "--start", "2026-10-21T10:00", "--category", "dns", "--source", "tiket", "--officer", "Y"}, `target "nope": no link with that id in the inventory`},
		{[]string{"--scope", "site", "--target", "pkm", "--start", "2026-10-20T14:00", "--category", "dns", "--source", "tiket", "--officer", "Y"}, "give scope link and target pkm-wan"},
		{[]string{"--target", "pkm-wan", "--start", "21/10/2026", "--category", "dns", "--source", "tiket", "--officer", "Y"}, `--start "21/10/2026"`},
		{[]string{"--target", "pkm-wan", "--start", "2026-10-21T10:00", "--category", "dns", "--source", "tiket", "--officer", "Y", "--cause-override", "power"}, "override_reason is required"},
	} {
		args := append([]string{"incident", "add", "--config", cfg}, c.args...)
		if code, _, errOut := cli(t, args...); code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %q in\n%s", c.args, code, c.want, errOut)
		}
	}
	if code, stdout, errOut := cli(t, "incident", "update", "--config", cfg, "--id", "1", "--action", "Sambung ulang FO",
		"--cause-override", "power", "--override-reason", "PLN padam, agen di UPS"); code != 0 || !strings.Contains(stdout, "updated incident 1") {
		t.Fatalf("incident update: exit %d\n%s%s", code, stdout, errOut)
	}
	if code, _, errOut := cli(t, "incident", "update", "--config", cfg, "--id", "1"); code == 0 || !strings.Contains(errOut, "nothing to change") {
		t.Errorf("empty update: exit %d\n%s", code, errOut)
	}
	code, stdout, _ := cli(t, "incident", "list", "--config", cfg, "--format", "json", "--from", "2026-10-01", "--to", "2026-11-01")
	var list []statedb.Incident
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list) != 1 || list[0].Action != "Sambung ulang FO" ||
		list[0].Ticket != "TIK/2026/10/044" || !list[0].Start.Equal(time.Date(2026, 10, 20, 5, 0, 0, 0, time.UTC)) { // 14:00 WIT = 05:00 UTC
		t.Errorf("incident list: exit %d %v\n%s", code, err, stdout)
	}
	if _, stdout, _ := cli(t, "incident", "list", "--config", cfg); !strings.Contains(stdout, "2026-10-20 14:00 WIT") || !strings.Contains(stdout, "(detected)") {
		t.Errorf("incident list table:\n%s", stdout)
	}

	// the report joins it: computed cause isp beside the override
	code, stdout, errOut := cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "csv", "--table", "incidents", "--log.level", "warn")
	want := "pkm-wan,,pkm,2026-10-20 14:00:00 WIT,2026-10-20 16:00:00 WIT,2:00:00,2:00:00,0:00:00,2:00:00,jalur ISP,tidak,jalur,ya,tidak," +
		"TIK/2026/10/044,FO putus,WhatsApp,Yohanis,Puskesmas tanpa SIMPUS,Sambung ulang FO,listrik/agen lokasi,\"PLN padam, agen di UPS\""
	if code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("report incidents: exit %d, want %q in\n%s%s", code, want, stdout, errOut)
	}
	code, stdout, errOut = cli(t, "report", "--config", cfg, "--period", "2026-10", "--format", "csv", "--table", "incident_mttr", "--log.level", "warn")
	if code != 0 || !strings.Contains(stdout, "fo_putus,fisik,FO putus,1,120.000,2:00:00") {
		t.Errorf("report incident_mttr: exit %d\n%s%s", code, stdout, errOut)
	}

	// audit: one row per change, none for the refused ones
	db, err = statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Audit(ctx, statedb.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rows {
		if e.Object == "incident/1" {
			got = append(got, e.Action)
		}
	}
	if strings.Join(got, ",") != "cli incident update,cli incident add" {
		t.Errorf("audit rows %v, want the update and the add", got)
	}
}
