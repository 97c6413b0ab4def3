package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// accessInventory has two OPDs, each with a site and a link, and a site
// that belongs to no OPD.
const accessInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIT}
  - {id: dc-pemda, name: Pusat Data, kind: datacenter, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}}
  - {id: dishub-wan, site: dishub, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.3}}
`

// TestIntegrationAccessMatrix asks every kind of endpoint of a running
// collector with every kind of credential and asserts each cell: allowed
// (the handler's own status), 401, 403, or allowed and filtered to the
// credential's OPDs.
func TestIntegrationAccessMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(accessInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) {
		c.Inventory = inv
		c.Notifiers = nil
		// The matrix fails on purpose many times from one address; the
		// limit has its own test (TestIntegrationAuthFailuresLimited).
		c.Limits.AuthFailuresPerMinute = 0
		// The matrix asks who may fetch an evidence bundle, 18 times;
		// with Chromium each bundle would print every product's PDF one
		// at a time. Without it the PDFs are listed as missing, which is
		// quick; the PDFs have their own tests (TestEvidenceBundlePDF,
		// TestReportAPIProductPDFs).
		c.Report.Chromium = filepath.Join(dir, "no-chromium")
	})
	ctx := context.Background()

	// Credentials.
	agent := tc.token("agent-noc")
	creds := map[string]string{
		"none":     "",
		"bad":      "Bearer pantau_aaaaaaaaaaaaaaaa_" + strings.Repeat("b", 52),
		"agent":    "Bearer " + agent,
		"viewer":   "Bearer " + tc.apiToken("v", "viewer"),
		"viewer@d": "Bearer " + tc.apiToken("vd", "viewer", "dinkes"),
		"oper":     "Bearer " + tc.apiToken("o", "operator"),
		"oper@d":   "Bearer " + tc.apiToken("od", "operator", "dinkes"),
		"admin":    "Bearer " + tc.admin,
		"admin@d":  "Bearer " + tc.apiToken("ad", "admin", "dinkes"),
	}
	db, err := statedb.Open(ctx, tc.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddUser(ctx, statedb.User{Name: "ani", Role: "viewer", OPDs: []string{"dinkes"}}, "kata-sandi-ani-123"); err != nil {
		t.Fatal(err)
	}
	creds["user@d"] = "Basic " + basic("ani", "kata-sandi-ani-123")
	creds["userbad"] = "Basic " + basic("ani", "salah-sandi-ani-123")
	// Grafana: basic auth with the token as the password.
	creds["grafana"] = "Basic " + basic("grafana", strings.TrimPrefix(creds["viewer@d"], "Bearer "))
	expired, _, err := db.CreateAPIToken(ctx, "old", "admin", nil, time.Now().Add(-time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	creds["expired"] = "Bearer " + expired

	// Data of both OPDs and of the OPD-less site.
	now := time.Now().Unix()
	if code, msg := tc.write(agent, fmt.Sprintf("icmp,site=dinkes,target=127.0.0.2 up=1i %d\nicmp,site=dishub,target=127.0.0.3 up=1i %d\nicmp,site=dc-pemda,target=127.0.0.4 up=1i %d\n", now, now, now)); code != 204 {
		t.Fatalf("write: %d %s", code, msg)
	}

	dishubWindow := `{"scope":"site","target":"dishub","start":"2026-10-20T08:30","end":"2026-10-20T10:00","reason":"ganti kabel"}`
	dinkesWindow := `{"scope":"site","target":"dinkes","start":"2026-10-20T08:30","end":"2026-10-20T10:00","reason":"ganti kabel"}`
	dishubIncident := `{"scope":"link","target":"dishub-wan","start":"2026-10-20T08:30","category":"fo_putus","source":"whatsapp","officer":"Andi"}`
	dinkesIncident := `{"scope":"link","target":"dinkes-wan","start":"2026-10-20T08:30","category":"listrik","source":"telepon","officer":"Andi"}`
	// Each row: request, then the expected status per credential
	// ("-" = the same as the cell to its left is not used: every cell is
	// written out). Columns follow cols.
	cols := []string{"none", "bad", "expired", "userbad", "agent", "viewer", "viewer@d", "user@d", "grafana", "oper", "oper@d", "admin", "admin@d"}
	rows := []struct {
		method, path, body string
		want               []int
	}{
		{"GET", "/healthz", "", []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/readyz", "", []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/ping", "", []int{401, 401, 401, 401, 204, 204, 204, 204, 204, 204, 204, 204, 204}},
		// InfluxDB 1.x clients' database statements at start (Telegraf)
		{"GET", "/query?q=CREATE+DATABASE+telegraf", "", []int{401, 401, 401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/metrics", "", []int{401, 401, 401, 401, 403, 200, 403, 403, 403, 200, 403, 200, 403}},
		{"GET", "/api/v1/query?query=pantau_icmp_up", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"POST", "/api/v1/query", "query=pantau_icmp_up", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/series?match[]=pantau_icmp_up", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/label/site/values", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/federate?match[]=pantau_icmp_up", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"POST", "/api/v1/read", readUp, []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/report?period=2026-11&format=json", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/report?period=2026-11&format=json&opd=dishub", "", []int{401, 401, 401, 401, 403, 200, 403, 403, 403, 200, 403, 200, 403}},
		// the evidence bundle: scoped like the report
		{"GET", "/api/v1/evidence?period=2026-11&indicator=17", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/evidence?period=2026-11&indicator=17&opd=dishub", "", []int{401, 401, 401, 401, 403, 200, 403, 403, 403, 200, 403, 200, 403}},
		{"GET", "/api/v1/alerts", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/rules", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/maintenance", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"POST", "/api/v1/maintenance", dishubWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 201, 403, 201, 403}},
		{"POST", "/api/v1/maintenance", dinkesWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 201, 201, 201, 201}},
		// incident records: one per outage, so after the first allowed
		// POST the others allowed through the gate and scope get 409;
		// record 1 is dishub's
		{"GET", "/api/v1/incidents", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"POST", "/api/v1/incidents", dishubIncident, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 201, 403, 409, 403}},
		{"POST", "/api/v1/incidents", dinkesIncident, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 201, 409, 409, 409}},
		{"POST", "/api/v1/incidents/1/updates", `{"action":"sambung FO"}`, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 200, 403}},
		{"POST", "/api/v1/incidents/2/updates", `{"action":"genset"}`, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 200}},
		{"GET", "/api/v1/inventory", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/inventory/unmatched", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/status", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/agents", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/outages", "", []int{401, 401, 401, 401, 403, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"GET", "/api/v1/outbox", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		// window 1 is dishub's (the operator's first POST above), 4 dinkes's
		{"PUT", "/api/v1/maintenance/1", dishubWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 200, 403}},
		{"PUT", "/api/v1/maintenance/4", dinkesWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 200}},
		{"PUT", "/api/v1/maintenance/4", dishubWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 403, 200, 403}},
		// and back (once the operator has, dinkes's credentials may too)
		{"PUT", "/api/v1/maintenance/4", dinkesWindow, []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 200, 200, 200, 200}},
		{"PUT", "/api/v1/inventory", "sites: [", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 400, 403}},
		{"GET", "/api/v1/tokens", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", "/api/v1/users", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", "/api/v1/audit", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		{"GET", "/api/v1/notifiers", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 200, 403}},
		// no notifiers in this config: the admin's test is a conflict
		{"POST", "/api/v1/notifiers/noc/test", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 409, 403}},
		// The v2 write API takes a token, not basic auth (401 for the
		// user and Grafana's basic credentials).
		{"POST", "/api/v2/write", "m v=1", []int{401, 401, 401, 401, 204, 403, 403, 401, 401, 403, 403, 403, 403}},
		{"GET", "/debug/pprof/", "", []int{401, 401, 401, 401, 403, 403, 403, 403, 403, 403, 403, 404, 403}},
		{"GET", "/no/such/path", "", []int{401, 401, 401, 401, 403, 404, 404, 404, 404, 404, 404, 404, 404}},
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	changes := 0
	for _, r := range rows {
		if len(r.want) != len(cols) {
			t.Fatalf("%s %s: %d cells for %d columns", r.method, r.path, len(r.want), len(cols))
		}
		for i, c := range cols {
			req, _ := http.NewRequest(r.method, tc.base+r.path, strings.NewReader(r.body))
			switch {
			case r.method == "POST" && strings.HasPrefix(r.path, "/api/v1/query"):
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case r.body != "" && strings.HasPrefix(r.body, "{"):
				req.Header.Set("Content-Type", "application/json")
			}
			if creds[c] != "" {
				req.Header.Set("Authorization", creds[c])
			}
			res, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != r.want[i] {
				t.Errorf("%s %s as %s: %d, want %d: %.200s", r.method, r.path, c, res.StatusCode, r.want[i], body)
			}
			if res.StatusCode == 401 && res.Header.Get("WWW-Authenticate") == "" && !strings.HasPrefix(r.path, "/api/v2/write") {
				t.Errorf("%s %s as %s: 401 without WWW-Authenticate", r.method, r.path, c)
			}
			if (res.StatusCode == 201 || r.method == "PUT" && res.StatusCode == 200) && strings.HasPrefix(r.path, "/api/v1/maintenance") {
				changes++
			}
		}
	}

	// Filtered cells: a dinkes credential's answers hold dinkes only.
	sites := func(cred, path string) []string {
		t.Helper()
		req, _ := http.NewRequest("GET", tc.base+path, nil)
		req.Header.Set("Authorization", creds[cred])
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Data json.RawMessage
		}
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
		var list []string
		var vec struct {
			Result []struct{ Metric map[string]string }
		}
		if json.Unmarshal(out.Data, &vec) == nil && vec.Result != nil {
			for _, s := range vec.Result {
				list = append(list, s.Metric["site"])
			}
		} else {
			var ser []map[string]string
			if json.Unmarshal(out.Data, &ser) == nil {
				for _, s := range ser {
					list = append(list, s["site"])
				}
			} else if err := json.Unmarshal(out.Data, &list); err != nil {
				t.Fatalf("%s: %v: %s", path, err, b)
			}
		}
		sort.Strings(list)
		return slices.Compact(list)
	}
	for _, c := range []struct{ cred, path, want string }{
		{"viewer@d", "/api/v1/query?query=" + url.QueryEscape("pantau_icmp_up"), "[dinkes]"},
		{"user@d", "/api/v1/query?query=" + url.QueryEscape(`pantau_icmp_up{opd="dishub"}`), "[]"},
		{"grafana", "/api/v1/query?query=" + url.QueryEscape(`count by (site) ({__name__=~".+"})`), "[dinkes]"},
		{"viewer@d", "/api/v1/series?match[]=pantau_icmp_up", "[dinkes]"},
		{"viewer@d", "/api/v1/label/site/values", "[dinkes]"},
		{"viewer", "/api/v1/query?query=" + url.QueryEscape("pantau_icmp_up"), "[dc-pemda dinkes dishub]"},
		{"viewer", "/api/v1/label/site/values", "[dc-pemda dinkes dishub]"},
	} {
		if got := fmt.Sprint(sites(c.cred, c.path)); got != c.want {
			t.Errorf("%s as %s: sites %s, want %s", c.path, c.cred, got, c.want)
		}
	}
	// Federation and remote read as dinkes hold dinkes's series only.
	for _, c := range []struct{ cred, want string }{{"viewer@d", "[dinkes]"}, {"grafana", "[dinkes]"}, {"viewer", "[dc-pemda dinkes dishub]"}} {
		req, _ := http.NewRequest("GET", tc.base+"/federate?match[]=pantau_icmp_up", nil)
		req.Header.Set("Authorization", creds[c.cred])
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ls := range federatedSeries(t, res) {
			got = append(got, ls["site"])
		}
		sort.Strings(got)
		if fmt.Sprint(got) != c.want {
			t.Errorf("/federate as %s: sites %v, want %s", c.cred, got, c.want)
		}
		req, _ = http.NewRequest("POST", tc.base+"/api/v1/read", strings.NewReader(readUp))
		req.Header.Set("Authorization", creds[c.cred])
		res, err = cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, ls := range remoteReadSeries(t, res) {
			got = append(got, ls["site"])
		}
		sort.Strings(got)
		if fmt.Sprint(got) != c.want {
			t.Errorf("/api/v1/read as %s: sites %v, want %s", c.cred, got, c.want)
		}
	}
	// The maintenance list as dinkes holds only dinkes's windows; each
	// change made is on record.
	req, _ := http.NewRequest("GET", tc.base+"/api/v1/maintenance", nil)
	req.Header.Set("Authorization", creds["oper@d"])
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ws []struct{ Target string }
	json.NewDecoder(res.Body).Decode(&ws)
	res.Body.Close()
	for _, w := range ws {
		if w.Target != "dinkes" {
			t.Errorf("a dinkes operator sees the window of %s", w.Target)
		}
	}
	if len(ws) != 4 {
		t.Errorf("a dinkes operator sees %d windows, want the 4 dinkes ones", len(ws))
	}
	// The incident list as a dinkes viewer holds only dinkes's record.
	req, _ = http.NewRequest("GET", tc.base+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", creds["viewer@d"])
	if res, err = cl.Do(req); err != nil {
		t.Fatal(err)
	}
	var incs []struct{ Target, Action string }
	json.NewDecoder(res.Body).Decode(&incs)
	res.Body.Close()
	if fmt.Sprint(incs) != "[{dinkes-wan genset}]" {
		t.Errorf("a dinkes viewer sees incident records %v, want [{dinkes-wan genset}]", incs)
	}
	audit, err := db.Audit(ctx, statedb.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	api := 0
	for _, e := range audit {
		if strings.HasPrefix(e.Action, "POST /api/v1/maintenance") || strings.HasPrefix(e.Action, "PUT /api/v1/maintenance") {
			api++
			if e.ActorKind != "token" || e.ActorName == "" || e.Source != "127.0.0.1" || !strings.HasPrefix(e.Object, "maintenance/") {
				t.Errorf("audit row %+v", e)
			}
		}
	}
	if api != changes {
		t.Errorf("%d audit rows for %d changes through the API", api, changes)
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestIntegrationAuthFailuresLimited: wrong credentials from one address
// are refused with 401 up to limits.auth_failures_per_minute, then with
// 429 and Retry-After, also for a right credential, which cannot be
// guessed faster; the log has one line for them, naming neither the
// secret nor the password.
func TestIntegrationAuthFailuresLimited(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs the collector)")
	}
	tc := startCollector(t, func(c *config.Config) { c.Limits.AuthFailuresPerMinute = 5 })
	secret := strings.Repeat("q", 52)
	codes := map[int]int{}
	var retry string
	for i := range 8 {
		req, _ := http.NewRequest("GET", tc.base+"/api/v1/query?query=up", nil)
		if i%2 == 0 {
			req.Header.Set("Authorization", "Bearer pantau_aaaaaaaaaaaaaaaa_"+secret)
		} else {
			req.SetBasicAuth("ani", "rahasia-sekali-"+secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes[res.StatusCode]++
		if res.StatusCode == 429 {
			retry = res.Header.Get("Retry-After")
		}
	}
	if codes[401] != 5 || codes[429] != 3 || retry == "" {
		t.Errorf("answers %v (Retry-After %q); want 5×401 then 3×429 with Retry-After", codes, retry)
	}
	res, err := tc.httpCli.Get(tc.base + "/api/v1/query?query=up")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 {
		t.Errorf("a right credential from the blocked address: %d, want 429", res.StatusCode)
	}
	logs := tc.logs.String()
	if n := strings.Count(logs, `msg="authentication failed"`); n != 1 {
		t.Errorf("%d log lines for the failures, want 1 (rate-limited)", n)
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, "rahasia") {
		t.Errorf("the log holds a secret:\n%s", logs)
	}
	if !strings.Contains(logs, "token_id=aaaaaaaaaaaaaaaa") {
		t.Errorf("the log line does not name the token's public id:\n%s", testproc.GrepLines(logs, "authentication failed"))
	}
}

// TestIsLoopback decides the plain-HTTP warning at start.
func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:9810": true, "[::1]:9810": true, "0.0.0.0:9810": false, "10.0.0.5:9810": false, "[::]:9810": false} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(a); got != want {
			t.Errorf("isLoopback(%s) = %v, want %v", addr, got, want)
		}
	}
}
