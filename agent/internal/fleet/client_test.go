package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"
	"github.com/open-telemetry/opamp-go/server"
	srvtypes "github.com/open-telemetry/opamp-go/server/types"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/update"
	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/lab"
)

type fakeUpdater struct {
	mu     sync.Mutex
	offers []string
	staged bool
	err    error
	first  []error // the errors of the first offers, before err
}

func (u *fakeUpdater) Offer(_ context.Context, version string, file *protobufs.DownloadableFile) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.offers = append(u.offers, version+" "+file.DownloadUrl)
	if n := len(u.offers); n <= len(u.first) {
		return false, u.first[n-1]
	}
	return u.staged, u.err
}

// TestUpdateOffer: with update.enabled an offered pantau-agent release
// goes to the Updater, and its outcome is the package status the
// collector sees: Installing and a restart for a staged release; without
// an Updater the offer is refused. The status the agent starts with is
// the update state's (a rollback's message starts with "rolled back: "),
// and a release on trial marks itself healthy once the collector
// answered.
func TestUpdateOffer(t *testing.T) {
	const rolledBack = `{"format": 1, "status": {"version": "v99.0.0", "state": "rolled_back", "message": "the release did not report healthy within 5s (update.health_timeout)", "time": "2026-12-07T10:00:00Z"}, "rolled_back": ["v99.0.0"]}`
	for _, c := range []struct {
		name       string
		up         Updater
		state      string // update/state.json
		trial      bool
		wantStart  string // the ErrorMessage of the status at start
		wantStatus protobufs.PackageStatusEnum
		wantMsg    string
		restart    bool
		wantFailed string // a failure reported before, without the offer's hash
	}{
		{name: "installed", up: &fakeUpdater{}, wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_Installed},
		{name: "staged", up: &fakeUpdater{staged: true}, wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_Installing, restart: true},
		{name: "bad signature", up: &fakeUpdater{err: fmt.Errorf("%w: the signature does not verify", update.ErrRefused)}, wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, wantMsg: "the signature does not verify"},
		// A download failure is reported without the offer's hash (the
		// collector offers again) and the offer taken again after a wait.
		{name: "download fails, then works", up: &fakeUpdater{staged: true, first: []error{errors.New("download release v99.0.0: connection reset")}},
			wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_Installing, restart: true, wantFailed: "connection reset"},
		{name: "no updater", wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, wantMsg: "no updater built in"},
		{name: "rolled back before", up: &fakeUpdater{err: fmt.Errorf("%w: release v99.0.0 was rolled back on this agent and is not tried again", update.ErrRefused)},
			state: rolledBack, trial: true, wantStart: "rolled back: the release did not report healthy within 5s (update.health_timeout)",
			wantStatus: protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed, wantMsg: "rolled back: the release did not report healthy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.state != "" {
				if err := os.MkdirAll(update.Dir(dir), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(update.Dir(dir), "state.json"), []byte(c.state), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if c.trial {
				t.Setenv(update.EnvTrial, "1")
			}
			var mu sync.Mutex
			var got, first, failed *protobufs.PackageStatus
			var caps uint64
			var has bool
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
						s := m.GetPackageStatuses().GetPackages()[fleetproto.PackageName]
						if s != nil && first == nil {
							first = s
						}
						if s != nil && s.Status == c.wantStatus && len(m.GetPackageStatuses().ServerProvidedAllPackagesHash) > 0 {
							got = s
						}
						if s != nil && s.Status == protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed && len(m.GetPackageStatuses().ServerProvidedAllPackagesHash) == 0 {
							failed = s
						}
						// As the collector: offered until the agent reports it
						// has the offer (its hash).
						if ps := m.GetPackageStatuses(); ps != nil {
							has = len(ps.ServerProvidedAllPackagesHash) > 0
						}
						if has {
							return &protobufs.ServerToAgent{}
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
			restarted := make(chan struct{})
			cl := New(Options{StateDir: dir, CollectorURL: srv.URL, Token: config.NewLiveToken("tok-1"), PollInterval: time.Second,
				Logger: slog.New(slog.DiscardHandler), UpdateEnabled: true, Updater: c.up, Restart: func() { close(restarted) }, UpdateRetry: 10 * time.Millisecond,
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
			if c.wantStart != "" && (first.Status != protobufs.PackageStatusEnum_PackageStatusEnum_InstallFailed || first.ErrorMessage != c.wantStart) {
				t.Fatalf("status at start %v", first)
			}
			if c.wantFailed != "" && (failed == nil || !strings.Contains(failed.ErrorMessage, c.wantFailed)) {
				t.Fatalf("the failed download reported as %v", failed)
			}
			if c.restart {
				select {
				case <-restarted:
				case <-time.After(30 * time.Second):
					t.Fatal("a staged release did not restart the agent")
				}
			}
			if c.trial {
				if _, err := os.Stat(filepath.Join(update.Dir(dir), "healthy-"+buildinfo.Version)); err != nil {
					t.Fatalf("the release on trial did not mark itself healthy: %v", err)
				}
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
