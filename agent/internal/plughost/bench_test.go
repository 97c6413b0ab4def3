package plughost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
	tcpprobe "github.com/pantau-noc/pantau/plugins/tcp/probe"
)

// BenchmarkTCPCheck is the cost of a plugin call against the same check
// built in: a TCP connect to a loopback listener with the bundled tcp
// probe, called in process and through its plugin (gRPC over the plugin's
// Unix socket, mutual TLS).
func BenchmarkTCPCheck(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cfg := tcpprobe.Config{Name: "bench", Address: ln.Addr().String()}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pts := tcpprobe.Probe(ctx, cfg, time.Now)
			cancel()
			if len(pts) != 1 || pts[0].Fields["up"] != int64(1) {
				b.Fatalf("%+v", pts)
			}
		}
	})
	b.Run("plugin", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "pantau-plugin-tcp")
		if out, err := exec.Command("go", "build", "-o", bin, "../../../plugins/tcp").CombinedOutput(); err != nil {
			b.Fatalf("build: %v: %s", err, out)
		}
		data, _ := os.ReadFile(bin)
		sum := sha256.Sum256(data)
		raw, _ := json.Marshal(map[string]string{"address": cfg.Address})
		h, err := New(Spec{Name: "tcp", Path: bin, SHA256: hex.EncodeToString(sum[:]), Targets: []sdk.Target{{Name: "bench", Config: raw}}}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		if _, err := h.Collect(context.Background(), "bench"); err != nil { // start it
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pts, err := h.Collect(ctx, "bench")
			cancel()
			if err != nil || len(pts) != 1 || pts[0].Fields["up"] != int64(1) {
				b.Fatalf("%+v %v", pts, err)
			}
		}
	})
}
