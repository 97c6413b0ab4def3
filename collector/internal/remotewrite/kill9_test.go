package remotewrite

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

const kill9Series = 3

// kill9Batch is the samples of the child's batch i: kill9Series series, 10
// samples each, timestamps and values derived from i.
func kill9Batch(i int) map[string][]point {
	out := map[string][]point{}
	for s := range kill9Series {
		for j := range 10 {
			n := int64(i*10 + j)
			out[fmt.Sprintf(`{__name__="k9", s="%d"}`, s)] = append(out[fmt.Sprintf(`{__name__="k9", s="%d"}`, s)],
				point{T: 1_764_000_000_000 + n*1000, V: float64(n) + float64(s)/10})
		}
	}
	return out
}

// kill9Child appends batches through the tee, syncs each as the group
// commit does, and prints every batch it acknowledged; senders run
// meanwhile, so acks and cursor writes are in flight at the kill.
func kill9Child(dir, url string, from int) {
	q, err := Open(Options{Dir: dir, Logger: slog.New(slog.DiscardHandler), MaxSamplesPerRequest: 7,
		Endpoints: []Endpoint{{Name: "vm", URL: url}}})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go q.Run(context.Background())
	for i := from; ; i++ {
		app := q.Appender(nil)
		for name, ps := range kill9Batch(i) {
			s, _ := strings.CutPrefix(name, `{__name__="k9", s="`)
			l := labels.FromStrings("__name__", "k9", "s", strings.TrimSuffix(s, `"}`))
			for _, p := range ps {
				app.Append(0, l, p.T, p.V)
			}
		}
		if err := app.Commit(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if err := q.Sync(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("acked", i)
	}
}

// TestKill9DeliversAcknowledged SIGKILLs a child that queues and sends, and
// finds every sample the child acknowledged at the engine after the queue
// is reopened and drained.
func TestKill9DeliversAcknowledged(t *testing.T) {
	if dir := os.Getenv("PANTAU_RW_CHILD_DIR"); dir != "" {
		from, _ := strconv.Atoi(os.Getenv("PANTAU_RW_CHILD_FROM"))
		kill9Child(dir, os.Getenv("PANTAU_RW_CHILD_URL"), from)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	rcv := newReceiver(t)
	var acked []int
	for round := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill9DeliversAcknowledged$")
		cmd.Env = append(os.Environ(), "PANTAU_RW_CHILD_DIR="+dir, "PANTAU_RW_CHILD_URL="+rcv.url(),
			"PANTAU_RW_CHILD_FROM="+strconv.Itoa(round*100000))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		n := 0
		for n < 200 && sc.Scan() {
			v, ok := strings.CutPrefix(sc.Text(), "acked ")
			if !ok {
				t.Fatalf("child: %s", sc.Text())
			}
			i, _ := strconv.Atoi(v)
			acked = append(acked, i)
			n++
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if n < 200 {
			t.Fatalf("round %d: the child acknowledged only %d batches", round, n)
		}
	}
	q := openQueue(t, Options{Dir: dir, Endpoints: []Endpoint{{Name: "vm", URL: rcv.url()}}})
	run(t, q)
	waitDrained(t, q, "vm", drainTimeout)
	got := map[string]map[int64]float64{}
	for name, ps := range rcv.merged() {
		got[name] = map[int64]float64{}
		for _, p := range ps {
			got[name][p.T] = p.V
		}
	}
	for _, i := range acked {
		for name, ps := range kill9Batch(i) {
			for _, p := range ps {
				if v, ok := got[name][p.T]; !ok || v != p.V {
					t.Fatalf("acknowledged sample %s %d %g of batch %d lost after kill -9 (got %g, %v)", name, p.T, p.V, i, v, ok)
				}
			}
		}
	}
	reqs, _ := rcv.snapshot()
	t.Logf("%d acknowledged batches delivered in %d requests", len(acked), len(reqs))
}
