package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	srvtypes "github.com/open-telemetry/opamp-go/server/types"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/lab"
)

type fakeUpdater struct {
	mu     sync.Mutex
	offers []string
	err    error
}

func (u *fakeUpdater) Offer(_ context.Context, version string, file *protobufs.DownloadableFile) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.offers = append(u.offers, version+" "+file.DownloadUrl)
	return u.err
}

// TestUpdateOffer: with update.enabled an offered pantau-agent release
// goes to the Updater, and its outcome is the package status the
// collector sees; without an Updater the offer is refused.
func TestUpdateOffer(t *testing.T) {
	for _, c := range []struct {
		name       string
		up         Updater
		wantStatus protobufs.PackageStatusEnum
		wantMsg    string
	}{
		{"installed", &fakeUpdater{}, protobufs.PackageStatusEnum_PackageStatusEnum_Installed, ""},
		{"bad signature", &fakeUpdater{err: errors.New("the signature does not verify")}, protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, "the signature does not verify"},
		{"no updater", nil, protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, "no updater built in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var got *protobufs.PackageStatus
			var caps uint64
			op := server.New(nil)
			handler, connContext, err := op.Attach(server.Settings{Callbacks: srvtypes.Callbacks{OnConnecting: func(r *http.Request) srvtypes.ConnectionResponse {
				if r.Header.Get("Authorization") != "Token tok-1" {
					return srvtypes.ConnectionResponse{HTTPStatusCode: http.StatusUnauthorized}
				}
				return srvtypes.ConnectionResponse{Accept: true, ConnectionCallbacks: srvtypes.ConnectionCallbacks{
					OnMessage: func(_ context.Context, _ srvtypes.Connection, m *protobufs.AgentToServer) *protobufs.ServerToAgent {
						mu.Lock()
						defer mu.Unlock()
						if m.Capabilities != 0 {
							caps = m.Capabilities
						}
						if s := m.GetPackageStatuses().GetPackages()[fleetproto.PackageName]; s != nil && s.Status != protobufs.PackageStatusEnum_PackageStatusEnum_Installing {
							got = s
						}
						return &protobufs.ServerToAgent{PackagesAvailable: &protobufs.PackagesAvailable{AllPackagesHash: []byte{1},
							Packages: map[string]*protobufs.PackageAvailable{fleetproto.PackageName: {Type: protobufs.PackageType_PackageType_TopLevel,
								Version: "v99.0.0", File: &protobufs.DownloadableFile{DownloadUrl: "https://noc/api/v1/fleet/releases/v99.0.0/linux-amd64"}}}}}
					}}}
			}}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(handler))
			srv.Config.ConnContext = connContext
			srv.Start()
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			cl := New(Options{StateDir: t.TempDir(), CollectorURL: srv.URL, Token: config.NewLiveToken("tok-1"), PollInterval: time.Second,
				Logger: slog.New(slog.DiscardHandler), UpdateEnabled: true, Updater: c.up,
				Apply: func(context.Context, []byte) error { return nil }, Effective: func() []byte { return nil }})
			go func() { done <- cl.Run(ctx) }()
			defer func() {
				cancel()
				<-done
			}()
			if !lab.WaitFor(ctx, 30*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return got != nil
			}) {
				select {
				case err := <-done:
					t.Fatalf("no package status reported; Run: %v", err)
				default:
					t.Fatal("no package status reported")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Status != c.wantStatus || got.ServerOfferedVersion != "v99.0.0" || (c.wantMsg != "" && got.ErrorMessage != c.wantMsg && !strings.Contains(got.ErrorMessage, c.wantMsg)) {
				t.Fatalf("status %v", got)
			}
			if caps&uint64(protobufs.AgentCapabilities_AgentCapabilities_AcceptsPackages) == 0 {
				t.Fatal("AcceptsPackages not advertised with update.enabled")
			}
			if u, ok := c.up.(*fakeUpdater); ok {
				u.mu.Lock()
				defer u.mu.Unlock()
				if len(u.offers) == 0 || u.offers[0] != "v99.0.0 https://noc/api/v1/fleet/releases/v99.0.0/linux-amd64" {
					t.Fatalf("offers: %v", u.offers)
				}
			}
		})
	}
}

// TestFreshStatusAfterOutage: opamp-go retries a request as it was
// prepared, so the status the collector gets first after an outage was
// stamped before it (the collector would take its age for a clock offset
// and show the backlog as it was). Once the collector answers again the
// client sends a status stamped then, without waiting for its next poll
// (an hour here).
func TestFreshStatusAfterOutage(t *testing.T) {
	var (
		mu        sync.Mutex
		refused   int       // requests answered 503 (the collector "down")
		accepting time.Time // when the collector came back
		fresh     bool      // a status stamped after that arrived
		stamps    []time.Time
	)
	op := server.New(nil)
	handler, connContext, err := op.Attach(server.Settings{Callbacks: srvtypes.Callbacks{OnConnecting: func(*http.Request) srvtypes.ConnectionResponse {
		return srvtypes.ConnectionResponse{Accept: true, ConnectionCallbacks: srvtypes.ConnectionCallbacks{
			OnMessage: func(_ context.Context, _ srvtypes.Connection, m *protobufs.AgentToServer) *protobufs.ServerToAgent {
				if cm := m.GetCustomMessage(); cm != nil && cm.Capability == fleetproto.StatusCapability {
					var st fleetproto.Status
					if err := json.Unmarshal(cm.Data, &st); err != nil {
						t.Errorf("status message: %v", err)
					}
					mu.Lock()
					stamps = append(stamps, st.Time)
					fresh = fresh || !st.Time.Before(accepting)
					mu.Unlock()
				}
				return &protobufs.ServerToAgent{}
			}}}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		down := refused < 2
		if down {
			refused++
		} else if accepting.IsZero() {
			accepting = time.Now()
		}
		mu.Unlock()
		if down {
			http.Error(w, "collector down", http.StatusServiceUnavailable)
			return
		}
		handler(w, r)
	}))
	srv.Config.ConnContext = connContext
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cl := New(Options{StateDir: t.TempDir(), CollectorURL: srv.URL, Token: config.NewLiveToken("tok-1"), PollInterval: time.Hour,
		Logger: slog.New(slog.DiscardHandler), Apply: func(context.Context, []byte) error { return nil }, Effective: func() []byte { return nil }})
	go func() { done <- cl.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if !lab.WaitFor(ctx, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fresh
	}) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("after the outage (back at %s) no status stamped since arrived: %v", accepting.Format(time.StampMicro), stamps)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stamps) < 2 || !stamps[0].Before(accepting) {
		t.Fatalf("the test did not see a stale status first: %v (back at %s)", stamps, accepting.Format(time.StampMicro))
	}
}
