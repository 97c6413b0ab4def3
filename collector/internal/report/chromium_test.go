package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"github.com/pantau-noc/pantau/internal/golden"
)

// chromiumPath is Debian's chromium, which `make deps` installs.
const chromiumPath = "/usr/bin/chromium"

// cdpOrigin is the Origin of the DevTools WebSocket connection.
const cdpOrigin = "http://127.0.0.1"

// TestHTMLChromium loads the HTML report in headless chromium and checks
// that it renders without any error and to a page-sized, non-blank
// screenshot.
func TestHTMLChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("renders in headless chromium; skipped with -short")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed to check the HTML report: %v; run `make deps` to install it", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	var logs lockedBuffer
	cmd := exec.CommandContext(ctx, chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		// Chromium refuses DevTools WebSocket connections that carry an
		// Origin header unless the origin is allowed, and
		// golang.org/x/net/websocket always sends one: allow exactly it.
		"--remote-allow-origins="+cdpOrigin,
		"--user-data-dir="+profile, "--remote-debugging-port=0", "about:blank")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("chromium output:\n%s", logs.String())
		}
	}()

	port, err := devToolsPort(ctx, profile, cmd)
	if err != nil {
		t.Fatal(err)
	}
	wsURL, err := pageTarget(ctx, port)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dialCDP(ctx, wsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.Close()
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		if _, err := c.call(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A desktop-sized viewport (headless chromium's default is 800x600,
	// less the scroll bar).
	if _, err := c.call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": 1280, "height": 1024, "deviceScaleFactor": 1, "mobile": false,
	}); err != nil {
		t.Fatal(err)
	}

	outDir := t.TempDir()
	if golden.Update() {
		outDir = filepath.Join("testdata", "render")
	}
	for _, lang := range []string{LangID, LangEN} {
		page := filepath.Join(dir, "report."+lang+".html")
		if err := os.WriteFile(page, renderHTML(t, lang), 0o644); err != nil {
			t.Fatal(err)
		}
		pageURL := (&url.URL{Scheme: "file", Path: page}).String()
		c.loaded = false
		res, err := c.call("Page.navigate", map[string]any{"url": pageURL})
		if err != nil {
			t.Fatal(err)
		}
		var nav struct {
			ErrorText string `json:"errorText"`
		}
		if err := json.Unmarshal(res, &nav); err != nil || nav.ErrorText != "" {
			t.Fatalf("navigate to %s: %s %v", pageURL, nav.ErrorText, err)
		}
		if err := c.waitLoad(); err != nil {
			t.Fatal(err)
		}

		res, err = c.call("Page.getLayoutMetrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		var lm struct {
			Content struct{ Width, Height float64 } `json:"cssContentSize"`
		}
		if err := json.Unmarshal(res, &lm); err != nil {
			t.Fatal(err)
		}
		res, err = c.call("Page.captureScreenshot", map[string]any{
			"format": "png", "captureBeyondViewport": true,
			"clip": map[string]any{"x": 0, "y": 0, "width": lm.Content.Width, "height": lm.Content.Height, "scale": 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		var shot struct {
			Data string `json:"data"`
		}
		if err := json.Unmarshal(res, &shot); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		// The print layout: A4 pages, landscape ones for the wide tables.
		res, err = c.call("Page.printToPDF", map[string]any{"preferCSSPageSize": true, "printBackground": true})
		if err != nil {
			t.Fatal(err)
		}
		var pdf struct {
			Data string `json:"data"`
		}
		if err := json.Unmarshal(res, &pdf); err != nil {
			t.Fatal(err)
		}
		doc, err := base64.StdEncoding.DecodeString(pdf.Data)
		if err != nil || !bytes.HasPrefix(doc, []byte("%PDF-")) {
			t.Fatalf("%s: printToPDF gave no PDF (%v)", lang, err)
		}
		portrait, landscape := pdfPages(doc)
		t.Logf("%s: printed to %d A4 portrait and %d A4 landscape pages", lang, portrait, landscape)
		if portrait < 5 || landscape < 1 {
			t.Errorf("%s: printed to %d A4 portrait and %d A4 landscape pages, want at least 5 and 1", lang, portrait, landscape)
		}
		// Anything logged since chromium started (or since the previous
		// page) is a fault.
		for _, p := range c.problems {
			t.Errorf("%s: %s", lang, p)
		}
		c.problems = nil
		file := filepath.Join(outDir, "report."+lang+".png")
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: screenshot is not a PNG: %v", lang, err)
		}
		b := img.Bounds()
		t.Logf("%s: screenshot %dx%d px in %s", lang, b.Dx(), b.Dy(), file)
		if b.Dx() < 800 || b.Dy() < 1000 {
			t.Errorf("%s: screenshot %dx%d px, want at least 800x1000", lang, b.Dx(), b.Dy())
		}
		if n := colours(img, 16); n < 16 {
			t.Errorf("%s: screenshot has only %d colours: blank page?", lang, n)
		}
	}
}

// pdfPages counts the A4 portrait and landscape pages of a PDF by their
// media boxes, which chromium writes uncompressed.
func pdfPages(doc []byte) (portrait, landscape int) {
	for _, m := range regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]`).FindAllSubmatch(doc, -1) {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		a4 := func(a, b float64) bool { return math.Abs(a-595.28) < 2 && math.Abs(b-841.89) < 2 }
		switch {
		case a4(w, h):
			portrait++
		case a4(h, w):
			landscape++
		}
	}
	return portrait, landscape
}

// colours counts the distinct colours of img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// lockedBuffer collects chromium's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// devToolsPort waits (at most 30 s) for chromium to write the port it
// listens on to DevToolsActivePort in its profile.
func devToolsPort(ctx context.Context, profile string, cmd *exec.Cmd) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	file := filepath.Join(profile, "DevToolsActivePort")
	for {
		if b, err := os.ReadFile(file); err == nil {
			line, _, _ := strings.Cut(string(b), "\n")
			if port, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && port > 0 {
				return port, nil
			}
		}
		if cmd.ProcessState != nil {
			return 0, fmt.Errorf("chromium exited before listening: %v", cmd.ProcessState)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("chromium wrote no port to %s within 30 s", file)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// localClient talks to chromium's DevTools HTTP endpoint only: no proxy,
// loopback only.
var localClient = &http.Client{Transport: &http.Transport{
	Proxy: nil,
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			return nil, fmt.Errorf("refusing to connect to %s: only 127.0.0.1", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	},
}}

// pageTarget returns the DevTools WebSocket URL of a page target: the
// about:blank page chromium opened, or a new one.
func pageTarget(ctx context.Context, port int) (string, error) {
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	get := func(method, path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := localClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
		}
		return b, nil
	}
	type target struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	b, err := get(http.MethodGet, "/json/list")
	if err != nil {
		return "", fmt.Errorf("devtools targets: %w", err)
	}
	var list []target
	if err := json.Unmarshal(b, &list); err != nil {
		return "", fmt.Errorf("devtools targets: %w", err)
	}
	for _, tg := range list {
		if tg.Type == "page" && tg.WS != "" {
			return tg.WS, nil
		}
	}
	if b, err = get(http.MethodPut, "/json/new?about:blank"); err != nil {
		return "", fmt.Errorf("devtools new page: %w", err)
	}
	var tg target
	if err := json.Unmarshal(b, &tg); err != nil || tg.WS == "" {
		return "", fmt.Errorf("devtools new page: %q %v", b, err)
	}
	return tg.WS, nil
}

// cdp is a minimal Chrome DevTools Protocol client: one call at a time,
// events handled while waiting for a reply.
type cdp struct {
	conn     *websocket.Conn
	next     int
	problems []string // errors the page caused
	loaded   bool
}

type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func dialCDP(ctx context.Context, wsURL string) (*cdp, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	if host := u.Hostname(); host != "127.0.0.1" {
		return nil, fmt.Errorf("devtools URL %s is not on 127.0.0.1", wsURL)
	}
	cfg, err := websocket.NewConfig(wsURL, cdpOrigin)
	if err != nil {
		return nil, err
	}
	cfg.Dialer = &net.Dialer{Timeout: 10 * time.Second}
	conn, err := cfg.DialContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("devtools websocket %s: %w", wsURL, err)
	}
	conn.MaxPayloadBytes = 256 << 20 // screenshots
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	return &cdp{conn: conn}, nil
}

// call sends a command and returns its result.
func (c *cdp) call(method string, params any) (json.RawMessage, error) {
	c.next++
	id := c.next
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := websocket.JSON.Send(c.conn, msg); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	for {
		m, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		return m.Result, nil
	}
}

// waitLoad reads events until the page's load event.
func (c *cdp) waitLoad() error {
	for !c.loaded {
		if _, err := c.read(); err != nil {
			return fmt.Errorf("waiting for the load event: %w", err)
		}
	}
	return nil
}

// read reads one message, noting the events that matter.
func (c *cdp) read() (*cdpMessage, error) {
	var m cdpMessage
	if err := websocket.JSON.Receive(c.conn, &m); err != nil {
		return nil, err
	}
	switch m.Method {
	case "Page.loadEventFired":
		c.loaded = true
	case "Runtime.exceptionThrown":
		c.problems = append(c.problems, "exception: "+string(m.Params))
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			c.problems = append(c.problems, "console "+p.Type+": "+string(m.Params))
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			c.problems = append(c.problems, fmt.Sprintf("log error (%s) %s: %s", p.Entry.Source, p.Entry.URL, p.Entry.Text))
		}
	}
	return &m, nil
}
