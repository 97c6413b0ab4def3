package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium is Debian's, which `make deps` installs.
const chromium = "/usr/bin/chromium"

// browser is headless Chromium driven by chromedp against a test
// collector's web UI. Every console error, exception and CSP violation
// the pages report fails the test at cleanup (a strict CSP the pages
// break would show here).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
}

// newBrowser starts Chromium for base (the collector's URL). The whole
// test's browsing is bounded by timeout.
func newBrowser(t *testing.T, base string, timeout time.Duration) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is needed for the web UI's browser tests: %v; run `make deps` to install it", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, acancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "id-ID"))...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: bctx, base: base}
	t.Cleanup(func() {
		bcancel()
		acancel()
		cancel()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("browser: %s", p)
		}
	})
	note := func(s string) { b.mu.Lock(); b.problems = append(b.problems, s); b.mu.Unlock() }
	if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, runtime.Enable, cdp.Empty{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			note(fmt.Sprintf("exception: %+v", e.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				note(fmt.Sprintf("console %s", e.Type))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && !b.expected(e.Entry.Text) {
				note(fmt.Sprintf("log error (%s) %s: %s", e.Entry.Source, e.Entry.URL, e.Entry.Text))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// expected is a console error a test provokes on purpose (a 4xx answer
// to a form it submits wrongly).
func (b *browser) expected(text string) bool {
	return strings.Contains(text, "Failed to load resource: the server responded with a status of 4")
}

// do runs actions, failing the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// bget runs an action that returns a value.
func bget[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// open navigates to path (under the collector) and waits for the body.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// location is the page's path and query.
func (b *browser) location() string {
	b.t.Helper()
	return bget(b, "location", chromedp.Evaluate[string](`location.pathname + location.search`))
}

// text is the visible text of the first element sel (CSS) matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return bget(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// mainText is the text of the page's main part.
func (b *browser) mainText() string { return b.text("main") }

// login logs in through the form (fields typed, Enter pressed) and waits
// for the UI's menu.
func (b *browser) login(name, password string) {
	b.t.Helper()
	b.open("/ui/masuk")
	b.do("log in as "+name,
		chromedp.SendKeys(chromedp.ID("name"), name),
		chromedp.SendKeys(chromedp.ID("password"), password+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("header nav")))
}

// submit sets form fields (CSS selector → value; a file input takes a
// path) and clicks button (CSS), then waits for the next page's body.
func (b *browser) submit(fields map[string]string, button string) {
	b.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		if strings.HasPrefix(sel, "file:") {
			acts = append(acts, chromedp.SetUploadFiles(chromedp.CSS(strings.TrimPrefix(sel, "file:")), []string{v}))
			continue
		}
		acts = append(acts, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(button)), chromedp.WaitReady(chromedp.CSS("body")))
	b.do("submit "+button, acts...)
}

// focused describes the element that has the keyboard focus: its id, or
// its tag and text.
func (b *browser) focused() string {
	b.t.Helper()
	return bget(b, "focused element", chromedp.Evaluate[string](`(() => { const e = document.activeElement;
		return e ? (e.id || (e.tagName.toLowerCase() + ":" + (e.textContent || "").trim())) : "" })()`))
}

// tab presses Tab n times.
func (b *browser) tab(n int) {
	b.t.Helper()
	for range n {
		b.do("Tab", chromedp.KeyEvent(kb.Tab))
	}
}

// screenshot writes the page as PNG into $PANTAU_SCREENSHOTS/name.png
// when that is set (make screenshots); otherwise does nothing.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("PANTAU_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := bget(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// count counts the elements sel (CSS) matches.
func (b *browser) count(sel string) int {
	b.t.Helper()
	ns := bget(b, "count "+sel, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	return len(ns)
}

// TestBrowserKeyboardLogin logs in with the keyboard alone (the name
// field has the focus, Tab reaches the password, Enter submits), finds
// the skip link on the first Tab of the home page, and changes the
// password through its form with Tab, typing and Enter only.
func TestBrowserKeyboardLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startCollector(t, nil)
	tc.uiUser("ani", "operator", "kata-sandi-ani-123", "dinkes")
	b := newBrowser(t, tc.base, 2*time.Minute)
	b.open("/ui/")
	if loc := b.location(); loc != "/ui/masuk" {
		t.Fatalf("without a session /ui/ went to %s", loc)
	}
	// The name field has the focus (autofocus); Shift+Tab goes back to the
	// language switch, Tab twice on to the password.
	if f := b.focused(); f != "name" {
		t.Fatalf("focus on the login page is on %q, want the name field", f)
	}
	b.do("type the name", chromedp.KeyEvent("ani"))
	b.tab(1)
	if f := b.focused(); f != "password" {
		t.Fatalf("Tab from the name went to %q, want the password", f)
	}
	b.do("type the password and Enter", chromedp.KeyEvent("kata-sandi-ani-123"), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("header nav")))
	if loc := b.location(); loc != "/ui/" {
		t.Fatalf("after the login the browser is at %s", loc)
	}
	b.tab(1)
	if f := b.focused(); !strings.HasPrefix(f, "a:Langsung ke isi") {
		t.Fatalf("the first Tab on the home page reaches %q, want the skip link", f)
	}
	b.do("follow the skip link", chromedp.KeyEvent(kb.Enter))
	if f := b.focused(); f != "isi" {
		t.Fatalf("the skip link moved the focus to %q, want the main content", f)
	}
	if got := b.count(`label[for="name"]`); got != 0 {
		t.Fatalf("still on the login page")
	}

	// One form with the keyboard alone: Tab to "Ganti kata sandi", Enter,
	// Tab to each field in order, type, Enter.
	b.tabTo("a:Ganti kata sandi", 40)
	b.do("follow the link", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("current")))
	b.tabTo("current", 40)
	b.do("type the current password", chromedp.KeyEvent("kata-sandi-ani-123"))
	for _, f := range []struct{ id, text string }{{"new", "sandi-baru-ani-4567"}, {"repeat", "sandi-baru-ani-4567"}} {
		b.tab(1)
		if got := b.focused(); got != f.id {
			t.Fatalf("Tab moved to %q, want %s", got, f.id)
		}
		b.do("type "+f.id, chromedp.KeyEvent(f.text))
	}
	b.do("submit with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("p.ok")))
	if got := b.text("p.ok"); got != "Kata sandi sudah diganti." {
		t.Fatalf("after the form: %q", got)
	}
	c := browserClient(t)
	if r := uiLogin(t, c, tc.base, "ani", "sandi-baru-ani-4567"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new password does not log in: %d", r.StatusCode)
	}
}

// tabTo presses Tab until the focused element is want (as focused()
// describes it), at most n times.
func (b *browser) tabTo(want string, n int) {
	b.t.Helper()
	var seen []string
	for range n {
		b.tab(1)
		f := b.focused()
		if f == want {
			return
		}
		seen = append(seen, f)
	}
	b.t.Fatalf("%d Tabs did not reach %q; the focus went through %q", n, want, seen)
}

// axePath is axe-core's browser build, which `make deps` installs with
// npm (.ci/install-deps).
const axePath = "../.cache/axe/node_modules/axe-core/axe.min.js"

// axeViolation is one failed WCAG rule on a page.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// accessible runs axe-core's WCAG 2.0/2.1 A and AA rules (labels,
// contrast, names, landmarks, keyboard) on the open page and fails the
// test for each violation. The script is injected through DevTools,
// which the page's CSP does not govern; the pages themselves run none.
func (b *browser) accessible(page string) {
	b.t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		b.t.Fatalf("axe-core is needed for the accessibility checks: %v; run `make deps`", err)
	}
	bget(b, "inject axe-core", chromedp.Evaluate[bool](string(src)+"\n;true"))
	out := bget(b, "axe on "+page, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag",
		values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})
	)))`, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("axe on %s: %v: %s", page, err, out)
	}
	for _, v := range vs {
		b.t.Errorf("%s: WCAG %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
	}
}

// TestBrowserAccessibility runs axe-core on the login page and on every
// page of the menu, as an admin, in both languages.
func TestBrowserAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless chromium; skipped with -short")
	}
	tc := startCollector(t, nil)
	tc.uiUser("admin", "admin", "kata-sandi-admin-123")
	b := newBrowser(t, tc.base, 3*time.Minute)
	b.open("/ui/masuk")
	b.accessible("/ui/masuk")
	b.login("admin", "kata-sandi-admin-123")
	for _, lang := range []string{"id", "en"} {
		b.open("/ui/bahasa?lang=" + lang + "&next=/ui/")
		hrefs := bget(b, "menu", chromedp.Evaluate[[]string](`[...document.querySelectorAll("header nav a")].map(a => a.getAttribute("href"))`))
		if len(hrefs) < 9 {
			t.Fatalf("an admin's menu has %d entries: %v", len(hrefs), hrefs)
		}
		for _, h := range append(hrefs, "/ui/sandi") {
			b.open(h)
			b.accessible(lang + " " + h)
		}
	}
}
