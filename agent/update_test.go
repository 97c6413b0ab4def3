package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/update"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// TestUpdaterDownloadsFromThePinnedCollector: the agent's Updater fetches
// an offered release from the collector it enrolled with, trusting only
// the certificate pinned in the state dir and sending the offer's
// headers (the agent's token), and stages it; without the pinned
// certificate the download fails (and may be tried again: not a
// refusal), and nothing is staged.
func TestUpdaterDownloadsFromThePinnedCollector(t *testing.T) {
	const version = "v7.7.7"
	bin := []byte("#!/bin/sh\necho 'pantau-agent " + version + " (revision test)'\n")
	sum := sha256.Sum256(bin)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token agent-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		w.Write(bin)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	pubPEM, err := fleetproto.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Update.Enabled, cfg.Update.PublicKeyFile = true, filepath.Join(dir, "release.pub")
	if err := os.WriteFile(cfg.Update.PublicKeyFile, pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	file := &protobufs.DownloadableFile{DownloadUrl: srv.URL + "/api/v1/fleet/releases/" + version + "/" + runtime.GOOS + "-" + runtime.GOARCH,
		ContentHash: sum[:], Signature: ed25519.Sign(priv, fleetproto.ReleaseMessage(version, runtime.GOOS, runtime.GOARCH, sum[:])),
		Headers: &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: "Token agent-token"}}}}
	offer := func(state string) (bool, error) {
		t.Helper()
		u, err := newUpdater(cfg, state, "127.0.0.1", slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return u.Offer(context.Background(), version, file)
	}

	// Not enrolled with this collector: its certificate is not trusted.
	untrusted := filepath.Join(dir, "untrusted")
	staged, err := offer(untrusted)
	if staged || err == nil || errors.Is(err, update.ErrRefused) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted collector: staged %v, err %v", staged, err)
	}
	if _, err := os.Stat(filepath.Join(update.Dir(untrusted), "pantau-agent-"+version)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staged from an untrusted collector: %v", err)
	}

	// Enrolled: the pinned certificate is in the state dir.
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(state, config.CollectorCAFile), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if staged, err := offer(state); !staged || err != nil {
		t.Fatalf("offer: staged %v, err %v", staged, err)
	}
	if st, err := update.State(state); err != nil || st.State != update.StatePending || st.Version != version {
		t.Fatalf("update state %+v %v", st, err)
	}
}
