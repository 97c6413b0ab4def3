package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/lab"

	"github.com/pantau-noc/pantau/internal/testbuild"
)

// TestIntegrationStoreAndForward cuts the site's link to the collector for
// many probe rounds and restores it: every point taken during the outage
// reaches the collector with its original timestamp, exactly once. The
// second run also kill -9s the agent in the middle of the outage.
func TestIntegrationStoreAndForward(t *testing.T) {
	lab.SkipShort(t, "root, network namespaces and 20-s outages")
	t.Parallel()
	for _, kill := range []bool{false, true} {
		t.Run(fmt.Sprintf("kill9=%v", kill), func(t *testing.T) {
			t.Parallel()
			storeAndForward(t, kill)
		})
	}
}

func storeAndForward(t *testing.T, kill bool) {
	agentBin, colBin := testbuild.Agent(t), testbuild.Collector(t)
	l, noc, _, site, _, _, siteIf := lab.ThreeHop(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "collector")
	tok, client, base := labCollector(t, l, noc, colBin, []string{"--data-dir", data, "--agent", "lab-agent"},
		"--listen-address", "10.250.1.1:9810", "--data-dir", data)

	state := filepath.Join(dir, "agent")
	cfg := filepath.Join(dir, "agent.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`agent: {id: lab-agent, site: lab, state_dir: %s, listen_address: ""}
collectors:
  - {name: noc, url: "%s", token: %s, timeout: 5s}
queue: {batch_linger: 200ms, sync_interval: 500ms}
defaults: {interval: 1s, timeout: 900ms}
icmp:
  - {target: 10.250.2.1, name: gw, packets: 1}
`, state, base, tok)), 0o600)
	var logs []*lab.SyncBuffer
	startAgent := func() *exec.Cmd {
		cmd, out := l.Start(site, agentBin, "run", "--config", cfg, "--log.level", "info")
		logs = append(logs, out)
		return cmd
	}
	agent := startAgent()
	const sel = `pantau_icmp_up{agent="lab-agent",name="gw"}`
	if !lab.WaitFor(t.Context(), 30*time.Second, func() bool { return len(samples(t, client, base, sel)) >= 3 }) {
		t.Fatal("no data reached the collector before the outage")
	}

	cut := time.Now()
	l.Down(site, siteIf)
	// PANTAU_LAB_OUTAGE lengthens the cut for a manual run (e.g. 1h); the
	// suite uses 20 s, twenty probe rounds.
	outage := 20 * time.Second
	if v := os.Getenv("PANTAU_LAB_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PANTAU_LAB_OUTAGE: %v", err)
		}
		outage = d
	}
	var restartGap [2]time.Time
	if kill {
		time.Sleep(outage / 2)
		restartGap[0] = time.Now()
		agent.Process.Signal(syscall.SIGKILL)
		agent.Wait()
		agent = startAgent()
		restartGap[1] = time.Now()
		time.Sleep(outage / 2)
	} else {
		time.Sleep(outage)
	}
	restored := time.Now()
	l.Up(site, siteIf)
	if kill {
		// The restarted agent probes only once it is up, which takes
		// seconds on a loaded machine: the gap lasts until its "probing"
		// line.
		if up, ok := probingSince(logs[1].String()); ok && up.After(restartGap[1]) {
			restartGap[1] = up
		}
	}

	// Everything measured during the outage arrives after it: every round
	// from those before the cut to those after the restore, except rounds the agent
	// skipped (a round that overran its interval on a loaded machine was
	// never measured; the agent logs each skip) and, with kill -9, the
	// rounds while no agent ran. The queue drains from both ends (a fresh
	// lane newest first beside the backlog lane oldest first), so the
	// last rounds to arrive lie in the middle of the outage or right after
	// the cut, not at its end: the check waits until the rounds are
	// complete rather than judging a snapshot taken while the queue is
	// still draining, and fails if they are not by the deadline.
	skipsFrom, skipsTo := cut.Add(-2500*time.Millisecond), restored.Add(5*time.Second)
	var (
		ts, during    []int64
		n, missing    int
		skipped       int
		gaps          []string
		enoughInCount bool
		bounded       bool // rounds before the cut and after the restore arrived
	)
	check := func() bool {
		ts = samples(t, client, base, sel)
		skipped = loggedSkips(logs, skipsFrom, skipsTo)
		n, during, missing, gaps = 0, nil, 0, nil
		for _, v := range ts {
			if v > cut.UnixMilli() && v < restored.UnixMilli() {
				n++
			}
			// Rounds on both sides of the outage bound it, so that a
			// missing first or last outage round is a gap too.
			if v > cut.Add(-2500*time.Millisecond).UnixMilli() && v < restored.Add(2500*time.Millisecond).UnixMilli() {
				during = append(during, v)
			}
		}
		// No gap between rounds during the outage longer than 1.5
		// intervals, except where the agent was down (kill -9 and
		// restart) or logged the rounds as skipped.
		for i := 1; i < len(during); i++ {
			gap := time.Duration(during[i]-during[i-1]) * time.Millisecond
			if gap > 1500*time.Millisecond {
				inRestart := kill && during[i-1] <= restartGap[1].Add(2*time.Second).UnixMilli() && during[i] >= restartGap[0].UnixMilli()
				if !inRestart {
					missing += int((gap+500*time.Millisecond)/time.Second) - 1
					gaps = append(gaps, fmt.Sprintf("%s at %s", gap, time.UnixMilli(during[i-1]).Format(time.TimeOnly)))
				}
			}
		}
		enoughInCount = n >= int(outage/time.Second)-3-skipped
		bounded = len(during) > 0 && during[0] <= cut.UnixMilli() && during[len(during)-1] >= restored.UnixMilli()
		return enoughInCount && bounded && missing <= skipped
	}
	lab.WaitFor(t.Context(), 60*time.Second+outage/10, check)
	if !enoughInCount {
		t.Fatalf("outage points missing: %d samples in all: %v", len(ts), ts)
	}
	if !bounded {
		t.Fatalf("no round from before the cut (%s) and after the restore (%s) reached the collector: %v",
			cut.Format(time.TimeOnly), restored.Format(time.TimeOnly), during)
	}
	if missing > skipped {
		t.Errorf("gaps between rounds (%s) miss %d rounds, the agent logged %d skipped (restart %s–%s): points were lost\nagent log:\n%s",
			strings.Join(gaps, ", "), missing, skipped, restartGap[0].Format(time.TimeOnly), restartGap[1].Format(time.TimeOnly), agentLogs(logs))
	} else if missing > 0 {
		t.Logf("gaps %s: %d rounds the agent skipped (it logged %d)", strings.Join(gaps, ", "), missing, skipped)
	}
	// The collector stored each batch once: its batch dedup saw resends
	// (if any) and nothing was stored twice (a TSDB series has one sample
	// per timestamp; the count above matches the rounds).
	if _, err := os.Stat(filepath.Join(state, "dead-letter.jsonl")); err == nil {
		b, _ := os.ReadFile(filepath.Join(state, "dead-letter.jsonl"))
		t.Errorf("batches were dead-lettered: %s", b)
	}
	t.Logf("outage %s (kill -9: %v): %d rounds taken during it reached the collector, %d checked for gaps (%s to %s)", restored.Sub(cut).Round(time.Second), kill, n,
		len(during), time.UnixMilli(during[0]).Format("15:04:05.000"), time.UnixMilli(during[len(during)-1]).Format("15:04:05.000"))
	agent.Process.Signal(syscall.SIGTERM)
	if err := agent.Wait(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v", err)
	}
}

var skipRE = regexp.MustCompile(`(?m)^time=(\S+) .*skipped rounds.* skipped=(\d+)`)

// loggedSkips sums the rounds the agents' schedulers logged as skipped
// between from and to. A skip is logged when the round that overran ends,
// after the rounds it skipped: skips logged outside the window checked
// cannot excuse a gap inside it.
func loggedSkips(logs []*lab.SyncBuffer, from, to time.Time) int {
	n := 0
	for _, m := range skipRE.FindAllStringSubmatch(agentLogs(logs), -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		k, _ := strconv.Atoi(m[2])
		n += k
	}
	return n
}

func agentLogs(logs []*lab.SyncBuffer) string {
	var b strings.Builder
	for _, l := range logs {
		b.WriteString(l.String())
	}
	return b.String()
}

var probingRE = regexp.MustCompile(`(?m)^time=(\S+) level=INFO msg=probing `)

// probingSince is when an agent's log says it began probing.
func probingSince(log string) (time.Time, bool) {
	m := probingRE.FindStringSubmatch(log)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, m[1])
	return t, err == nil
}
