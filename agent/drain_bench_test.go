package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/agent/internal/icmp"
	"github.com/pantau-noc/pantau/agent/internal/point"
	"github.com/pantau-noc/pantau/internal/lab"
	"github.com/pantau-noc/pantau/internal/spool"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// BenchmarkBacklogDrain24h measures how long the agent takes to deliver
// 24 hours of buffered data for 100 ICMP targets at 30 s rounds (288,000
// points in 5,000-point batches) to a collector on
// loopback, as after a day-long outage. Run with -benchtime 1x.
func BenchmarkBacklogDrain24h(b *testing.B) {
	colBin := testbuild.Collector(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		data := filepath.Join(dir, "collector")
		tok, err := exec.Command(colBin, "token", "create", "--data-dir", data, "--agent", "drain").Output()
		if err != nil {
			b.Fatal(err)
		}
		port := freeTCPPort(b)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cmd := exec.Command(colBin, "serve", "--listen-address", addr, "--data-dir", data, "--log.level", "warn")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		ready := lab.WaitFor(context.Background(), 30*time.Second, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		})
		if !ready {
			b.Fatal("collector not ready")
		}

		sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "queue"), SyncInterval: time.Second, MaxBytes: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		end := time.Now().Add(-time.Minute)
		start := end.Add(-24 * time.Hour)
		enc := point.NewEncoder()
		n, total := 0, 0
		flush := func() {
			if n > 0 {
				sp.Append(context.Background(), append([]byte(nil), enc.Bytes()...), n)
				enc.Reset()
				total += n
				n = 0
			}
		}
		for ts := start; ts.Before(end); ts = ts.Add(30 * time.Second) {
			for tg := 0; tg < 100; tg++ {
				tcfg := config.ICMPTarget{Target: fmt.Sprintf("10.20.%d.1", tg), Name: fmt.Sprintf("opd-%d", tg), Tags: map[string]string{"site": "s"}}
				enc.Add(ICMPPoint(tcfg, icmp.Result{Sent: 5, Received: 5, RTTs: []time.Duration{3e6, 3.1e6, 2.9e6, 3e6, 3.2e6}}, ts))
				n++
				if n == 5000 {
					flush()
				}
			}
		}
		flush()
		cur, _ := sp.Cursor("noc")
		reg, log := prometheus.NewRegistry(), slog.New(slog.DiscardHandler)
		dl := newDeadLetters(filepath.Join(dir, "dead.jsonl"), 16<<20, newDeadLetterMetrics(reg), sp, &lossLog{}, log)
		s := &sender{col: config.CollectorConfig{Name: "noc", URL: "http://" + addr, Token: config.Secret(strings.TrimSpace(string(tok)))},
			agentID: "drain", client: &http.Client{Timeout: 30 * time.Second}, cur: cur, deadLetter: dl,
			log: log, m: newSendMetrics(reg), minBackoff: 100 * time.Millisecond, maxBackoff: time.Second}
		ctx, cancel := context.WithCancel(context.Background())
		b.StartTimer()
		t0 := time.Now()
		go s.run(ctx)
		drained := lab.WaitFor(ctx, 10*time.Minute, func() bool { return sp.Stats().Records == 0 })
		took := time.Since(t0)
		b.StopTimer()
		cancel()
		sp.Close()
		if !drained {
			b.Fatalf("backlog not drained: %+v", sp.Stats())
		}
		b.ReportMetric(took.Seconds(), "drain_s")
		b.ReportMetric(float64(total)/took.Seconds(), "points/s")
		b.ReportMetric(0, "ns/op")
	}
}

func freeTCPPort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
