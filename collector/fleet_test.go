package collector

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/client"
	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/pantau-noc/pantau/collector/internal/config"
	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestFleetOpAMPWired: the collector serves OpAMP on its own listener
// behind the Gate, and an agent polling with its token gets the config
// derived from the collector's inventory.
func TestFleetOpAMPWired(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inventory.yml")
	os.WriteFile(inv, []byte(`
sites: [{id: kec-a, name: Distrik A, kind: district}]
links: [{id: kec-a-vsat, site: kec-a, type: vsat, icmp: {target: 127.0.0.9}}]
`), 0o640)
	tc := startCollector(t, func(c *config.Config) { c.Inventory = inv })
	code, out, errOut := cli(t, "token", "create", "--data-dir", tc.cfg.DataDir, "--agent", "agent-kec-a", "--site", "kec-a")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	tok := strings.TrimSpace(out)

	// Without an agent token: 401; with the admin's: 403.
	for _, c := range []struct {
		authz string
		want  int
	}{{"", 401}, {"Bearer " + tc.admin, 403}} {
		req, _ := http.NewRequest(http.MethodPost, tc.base+fleetproto.OpAMPPath, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-protobuf")
		if c.authz != "" {
			req.Header.Set("Authorization", c.authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("authorization %q: %d, want %d", c.authz, resp.StatusCode, c.want)
		}
	}

	var mu sync.Mutex
	var body []byte
	c := client.NewHTTP(nil)
	c.SetAgentDescription(&protobufs.AgentDescription{IdentifyingAttributes: []*protobufs.KeyValue{
		{Key: "service.name", Value: &protobufs.AnyValue{Value: &protobufs.AnyValue_StringValue{StringValue: "pantau-agent"}}},
	}})
	hb := 50 * time.Millisecond
	err := c.Start(context.Background(), types.StartSettings{
		OpAMPServerURL:    tc.base + fleetproto.OpAMPPath,
		Header:            http.Header{"Authorization": {"Token " + tok}},
		InstanceUid:       types.InstanceUid{9},
		HeartbeatInterval: &hb,
		Capabilities: protobufs.AgentCapabilities_AgentCapabilities_ReportsStatus | protobufs.AgentCapabilities_AgentCapabilities_AcceptsRemoteConfig |
			protobufs.AgentCapabilities_AgentCapabilities_ReportsHeartbeat,
		Callbacks: types.Callbacks{OnMessage: func(_ context.Context, m *types.MessageData) {
			if m.RemoteConfig != nil {
				mu.Lock()
				body = m.RemoteConfig.Config.ConfigMap[fleetproto.ConfigFile].Body
				mu.Unlock()
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	testproc.WaitFor(t, 30*time.Second, "the derived config", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(string(body), "kec-a-vsat") && strings.Contains(string(body), "127.0.0.9")
	})
}
