package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// TestIntegrationKill9KeepsAcknowledgedData writes from concurrent writers,
// SIGKILLs the collector process the moment it acknowledges the Nth batch,
// restarts it, and checks that every acknowledged point is queryable —
// three times over on the same data directory.
func TestIntegrationKill9KeepsAcknowledgedData(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (starts the collector binary)")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	dataDir := t.TempDir()
	addr := testproc.FreePort(t)
	tok := tokenCreate(t, bin, "--data-dir", dataDir, "--agent", "agent-k9")

	const (
		writers      = 4
		linesPerBody = 500
		killAfter    = 12 // acknowledged batches per cycle
		cycles       = 3
	)
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	acked := map[string]bool{} // "w/b" -> acknowledged
	var mu sync.Mutex
	body := func(w, b int) []byte {
		var buf bytes.Buffer
		for i := 0; i < linesPerBody; i++ {
			fmt.Fprintf(&buf, "k9,w=w%d,b=b%d v=%d %d\n", w, b, i, base.Add(time.Duration(i)*time.Second).UnixNano())
		}
		return buf.Bytes()
	}
	send := func(w, b int) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v2/write", bytes.NewReader(body(w, b)))
		req.Header.Set("Authorization", "Token "+tok)
		req.Header.Set("Pantau-Batch", fmt.Sprintf("agent-k9/w%d-b%d", w, b))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}

	next := 0 // batch numbers continue across cycles
	for c := 0; c < cycles; c++ {
		p := testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
		var (
			wg     sync.WaitGroup
			once   sync.Once
			nAcked int
		)
		start := next
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := start; b < start+50; b++ {
					code, err := send(w, b)
					if err != nil {
						return // the process is gone
					}
					if code != 204 {
						t.Errorf("batch w%d/b%d: status %d", w, b, code)
						return
					}
					mu.Lock()
					acked[fmt.Sprintf("w%d/b%d", w, b)] = true
					nAcked++
					kill := nAcked == killAfter
					mu.Unlock()
					if kill {
						once.Do(p.Kill)
						return
					}
				}
			}()
		}
		wg.Wait()
		once.Do(p.Kill) // in case the writers ran out first
		next = start + 50
	}

	p := testproc.Start(t, bin, addr, "--auth.anonymous", "viewer", "--listen-address", addr, "--data-dir", dataDir)
	defer func() {
		// A clean SIGTERM: drains, exits 0, logs the stop.
		p.Cmd.Process.Signal(syscall.SIGTERM)
		if err := p.Cmd.Wait(); err != nil {
			t.Errorf("collector exit after SIGTERM: %v\n%s", err, p.Logs)
		}
	}()
	cl, _ := api.NewClient(api.Config{Address: "http://" + addr})
	v, _, _, err := promv1.NewAPI(cl).Query(context.Background(),
		`sum by (w, b) (count_over_time(pantau_k9_v[1h]))`, base.Add(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	for _, s := range v.(model.Vector) {
		found[fmt.Sprintf("%s/%s", s.Metric["w"], s.Metric["b"])] = int(s.Value)
	}
	if len(acked) < cycles*killAfter {
		t.Fatalf("only %d batches acknowledged", len(acked))
	}
	for k := range acked {
		if found[k] != linesPerBody {
			t.Errorf("acknowledged batch %s: %d of %d points after kill -9", k, found[k], linesPerBody)
		}
	}
	// An acknowledged batch re-sent after the crash (its 204 was lost) is
	// answered 204 and stored nothing twice.
	for k := range acked {
		var w, b int
		fmt.Sscanf(k, "w%d/b%d", &w, &b)
		if code, err := send(w, b); err != nil || code != 204 {
			t.Fatalf("re-send %s: %d %v", k, code, err)
		}
		break
	}
	v, _, _, err = promv1.NewAPI(cl).Query(context.Background(), `count(count_over_time(pantau_k9_v[1h]) > 500)`, base.Add(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if vec := v.(model.Vector); len(vec) != 0 {
		t.Fatalf("series with duplicated points: %v", vec)
	}
	t.Logf("%d batches acknowledged across %d kill -9 cycles, all present", len(acked), cycles)
}
