// Package loadgen drives write load against a collector, or against a peer
// that speaks the same InfluxDB write API (victoria-metrics, influxdb), and
// measures what the server sustained: samples per second, write latency,
// and the server process's CPU time and resident memory read from /proc.
// It only ever targets loopback, and every run is bounded in time and in
// request count.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/pantau-noc/pantau/internal/wire/lpgen"
)

// Target is a server to load.
type Target struct {
	Name    string
	URL     string   // full write URL, e.g. http://127.0.0.1:9810/api/v2/write?precision=ns
	Tokens  []string // one per writer ("" = no Authorization header)
	PID     int      // server process, for CPU and memory; 0 = not measured
	Headers map[string]string
	// Signed sends unsigned fields as integers (InfluxDB 1.x < 1.8).
	Signed bool
	// ProfileURL, if set with Load.CPUProfile, is a Go pprof CPU profile
	// endpoint captured during the measured run.
	ProfileURL string
	// ReadToken is sent as a Bearer token to the server's /metrics and
	// profile endpoints (a Pantau admin token); "" sends none.
	ReadToken string
}

// Load describes the generated traffic.
type Load struct {
	Writers     int
	Mix         lpgen.Mix
	Duration    time.Duration // measured time, after the warm-up round
	MaxRequests int           // per writer, warm-up included; bounds the run by count
	Interval    time.Duration
	Start       time.Time // timestamp of the first round
	CPUProfile  string    // write the server's CPU profile here (pantau only)
}

// Result is what a run measured.
type Result struct {
	Target          string
	Warmup          time.Duration // first round of every writer: series creation
	Requests        int
	Failed          int
	Samples         int64
	Elapsed         time.Duration
	SamplesPerSec   float64
	P50, P99        time.Duration
	CPUSeconds      float64
	CPUPerMSamples  float64 // server CPU seconds per million samples
	MaxRSSBytes     int64
	FirstError      string
	GzipBytesPerReq int
}

// Payload is the pre-compressed request bodies of a load: for each writer
// (agent), one round per request with timestamps l.Interval apart.
type Payload struct {
	Bodies          [][][]byte
	SamplesPerRound int
}

// Build compresses every request body of l; signed rewrites unsigned
// fields as integers. Bodies are built before any clock starts so the
// figures measure the server, not the generator.
func Build(l Load, signed bool) *Payload {
	p := &Payload{Bodies: make([][][]byte, l.Writers)}
	var wg sync.WaitGroup
	for w := range p.Bodies {
		r := lpgen.NewRound(fmt.Sprintf("load%02d", w), l.Mix, l.Start.UnixNano())
		if signed {
			r.Signed()
		}
		p.SamplesPerRound = r.Samples
		p.Bodies[w] = make([][]byte, l.MaxRequests)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range p.Bodies[w] {
				r.Restamp(l.Start.Add(time.Duration(i) * l.Interval).UnixNano())
				p.Bodies[w][i] = gz(r.Body)
			}
		}()
	}
	wg.Wait()
	return p
}

// Run sends the payload from l.Writers goroutines until l.Duration or the
// request bound is reached. Each writer owns its own series (an agent).
func Run(ctx context.Context, t Target, l Load, p *Payload, progress io.Writer) (Result, error) {
	if l.Writers <= 0 || l.Duration <= 0 || l.MaxRequests <= 1 {
		return Result{}, errors.New("loadgen: Writers and Duration must be positive and MaxRequests above 1")
	}
	if err := checkLoopback(t.URL); err != nil {
		return Result{}, err
	}
	bodies, samplesPerRound := p.Bodies, p.SamplesPerRound
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: l.Writers, DisableCompression: true}}
	var (
		samples  atomic.Int64
		requests atomic.Int64
		failed   atomic.Int64
		firstErr atomic.Value
		latMu    sync.Mutex
		lats     []time.Duration
	)
	// Warm-up: every writer's first round creates its series; it is timed
	// on its own and not counted in the steady-state figures.
	w0 := time.Now()
	var wwg sync.WaitGroup
	warmErr := make(chan error, l.Writers)
	for w := 0; w < l.Writers; w++ {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			tok := ""
			if w < len(t.Tokens) {
				tok = t.Tokens[w]
			}
			if err := post(ctx, client, t, tok, fmt.Sprintf("load%02d/0", w), bodies[w][0]); err != nil {
				warmErr <- err
			}
		}()
	}
	wwg.Wait()
	warmup := time.Since(w0)
	select {
	case err := <-warmErr:
		return Result{}, fmt.Errorf("warm-up round: %w", err)
	default:
	}
	cpu0, _ := cpuSeconds(t.PID)
	rctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-tick.C:
				if progress != nil {
					el := time.Since(start).Seconds()
					fmt.Fprintf(progress, "  %s: %.0fs, %d requests, %.0f samples/s\n", t.Name, el, requests.Load(), float64(samples.Load())/el)
				}
			}
		}
	}()
	if l.CPUProfile != "" && t.ProfileURL != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secs := max(1, int(l.Duration.Seconds())-2)
			if err := fetchProfile(rctx, t.ProfileURL+fmt.Sprintf("?seconds=%d", secs), t.ReadToken, l.CPUProfile); err != nil && progress != nil {
				fmt.Fprintf(progress, "  cpu profile: %v\n", err)
			}
		}()
	}
	for w := 0; w < l.Writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := ""
			if w < len(t.Tokens) {
				tok = t.Tokens[w]
			}
			local := make([]time.Duration, 0, l.MaxRequests)
			for i := 1; i < l.MaxRequests && rctx.Err() == nil; i++ {
				t0 := time.Now()
				err := post(rctx, client, t, tok, fmt.Sprintf("load%02d/%d", w, i), bodies[w][i])
				if rctx.Err() != nil {
					break // the run's time is up; this request does not count
				}
				local = append(local, time.Since(t0))
				requests.Add(1)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				samples.Add(int64(samplesPerRound))
			}
			latMu.Lock()
			lats = append(lats, local...)
			latMu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	cpu1, cpuErr := cpuSeconds(t.PID)
	res := Result{
		Target: t.Name, Warmup: warmup, Requests: int(requests.Load()), Failed: int(failed.Load()), Samples: samples.Load(),
		Elapsed: elapsed, SamplesPerSec: float64(samples.Load()) / elapsed.Seconds(),
		GzipBytesPerReq: len(bodies[0][0]),
	}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	if len(lats) > 0 {
		slices.Sort(lats)
		res.P50 = lats[len(lats)/2]
		res.P99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	if t.PID > 0 && cpuErr == nil {
		res.CPUSeconds = cpu1 - cpu0
		if res.Samples > 0 {
			res.CPUPerMSamples = res.CPUSeconds / (float64(res.Samples) / 1e6)
		}
		res.MaxRSSBytes, _ = maxRSS(t.PID)
	}
	return res, nil
}

func post(ctx context.Context, c *http.Client, t Target, tok, batch string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if tok != "" {
		req.Header.Set("Authorization", "Token "+tok)
		req.Header.Set("Pantau-Batch", batch)
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("write to %s: %w", t.Name, err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("write to %s: %s: %s", t.Name, res.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func fetchProfile(ctx context.Context, url, token, path string) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// checkLoopback refuses any target that is not on this machine's loopback.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("target URL %q: %w", raw, err)
	}
	h := u.Hostname()
	if h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.") {
		return nil
	}
	return fmt.Errorf("target %s is not a loopback address: the load generator only sends to 127.0.0.0/8 or ::1", h)
}

// cpuSeconds reads utime+stime of pid from /proc (clock ticks of 100 Hz).
func cpuSeconds(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil
}

// maxRSS reads the peak resident set size (VmHWM) of pid.
func maxRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("VmHWM not found")
}
