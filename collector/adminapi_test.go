package collector

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/config"
)

// TestIntegrationAdminAPI: the admin API on a running collector. An
// inventory PUT is in force at once (before the 10-second file check),
// a token made through the API works at once and a revoked one stops at
// once, and the PUT is counted on /metrics.
func TestIntegrationAdminAPI(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	const invYAML = "sites:\n  - {id: dinkes, name: Dinas Kesehatan, kind: opd}\nlinks:\n  - {id: dinkes-wan, site: dinkes, icmp: {target: 127.0.0.2}}\n"
	if err := os.WriteFile(inv, []byte(invYAML), 0o640); err != nil {
		t.Fatal(err)
	}
	tc := startCollector(t, func(c *config.Config) { c.Inventory = inv })
	code, out, errOut := cli(t, "token", "create", "--data-dir", tc.cfg.DataDir, "--name", "root", "--role", "admin")
	if code != 0 {
		t.Fatalf("token create: %s", errOut)
	}
	admin := strings.TrimSpace(out)
	do := func(method, path, tok, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, tc.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := tc.httpCli.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	newInv := strings.Replace(invYAML, "links:", "  - {id: dishub, name: Dinas Perhubungan, kind: opd}\nlinks:", 1)
	if code, body := do("PUT", "/api/v1/inventory", admin, newInv); code != 200 {
		t.Fatalf("PUT inventory: %d %s", code, body)
	}
	if code, body := do("GET", "/api/v1/inventory", admin, ""); code != 200 || !strings.Contains(body, "dishub") {
		t.Errorf("the new inventory is not in force at once: %d %s", code, body)
	}

	code, body := do("POST", "/api/v1/tokens", admin, `{"name":"grafana","role":"viewer"}`)
	var created struct {
		Token string `json:"token"`
		Data  struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &created); code != 201 || err != nil {
		t.Fatalf("POST token: %d %s", code, body)
	}
	if code, _ := do("GET", "/api/v1/query?query=up", created.Token, ""); code != 200 {
		t.Errorf("the new token does not query at once: %d", code)
	}
	if code, body := do("DELETE", "/api/v1/tokens/"+created.Data.ID, admin, ""); code != 200 {
		t.Fatalf("DELETE token: %d %s", code, body)
	}
	if code, _ := do("GET", "/api/v1/query?query=up", created.Token, ""); code != 401 {
		t.Errorf("the revoked token still queries: %d", code)
	}
	if _, body := do("GET", "/metrics", admin, ""); !strings.Contains(body, `pantau_collector_inventory_updates_total{result="applied"} 1`) {
		t.Error("the PUT is not counted on /metrics")
	}
	if _, body := do("GET", "/api/v1/audit", admin, ""); strings.Count(body, `"actor_kind":"token","actor_id":"`) != 3 {
		t.Errorf("audit: want 3 API changes by root: %s", body)
	}
}
