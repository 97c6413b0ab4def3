// Package webui is the collector's web workspace: server-rendered pages
// (html/template, no script, no external resource) under /ui/ for the
// people who keep the records that turn monitoring into SPBE evidence.
//
// The UI holds no rules of its own. A page reads and changes through the
// collector's JSON API, called in-process with the logged-in user as the
// request's principal (Ctx.API): the same handlers, the same validation,
// the same OPD scope and audit rows, and before each call the same
// access policy the Gate applies (auth.Policy.Authorize). What the API
// refuses, the page shows.
//
// Sessions are statedb's (a random secret in an HttpOnly, SameSite=Strict
// cookie, stored hashed); the login shares the Gate's limit on failed
// authentications per source, and statedb locks a user after repeated
// wrong passwords. The Gate refuses state-changing requests from other
// origins (http.CrossOriginProtection) before they reach the UI.
package webui

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

//go:embed templates/*.html static/*
var files embed.FS

// Sessions is what the UI needs of statedb's Authenticator.
type Sessions interface {
	Login(ctx context.Context, name, password string) (string, statedb.Identity, error)
	Session(ctx context.Context, secret string) (statedb.Identity, error)
	Logout(ctx context.Context, secret string) error
	ChangePassword(ctx context.Context, name, current, next, keep string) error
}

// Options configure the UI.
type Options struct {
	// API is the collector's mux without the Gate: the UI calls it with
	// its user's principal after checking Policy itself.
	API      http.Handler
	Policy   auth.Policy // nil: auth.DefaultPolicy
	Sessions Sessions
	Guard    *auth.Guard // failed logins per source, shared with the Gate
	Audit    auth.Recorder
	// Zone is the zone dates are shown and read in (the Pemda's:
	// inventory.PemdaZone); nil: WIB.
	Zone func() *time.Location
	// MaxUploadBytes bounds an uploaded file (auth.max_evidence_bytes).
	MaxUploadBytes int64
	Version        string
	Logger         *slog.Logger
	Registerer     prometheus.Registerer // may be nil
	Now            func() time.Time

	// PDF reports whether report PDFs can be printed: nil, or why not
	// (no Chromium). Left nil, the pages do not know.
	PDF func() error
}

// UI serves the pages.
type UI struct {
	o      Options
	pages  map[string]*template.Template
	logins *prometheus.CounterVec
}

// loginResults are the values of pantau_collector_web_logins_total's
// result label.
var loginResults = []string{"success", "failure", "locked", "throttled"}

// New parses the templates.
func New(o Options) (*UI, error) {
	if o.Policy == nil {
		o.Policy = auth.DefaultPolicy
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Zone == nil {
		wib := time.FixedZone("WIB", 7*3600)
		o.Zone = func() *time.Location { return wib }
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 20 << 20
	}
	u := &UI{o: o, pages: map[string]*template.Template{}, logins: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_web_logins_total",
		Help: "Logins through the web UI's form, by result (success; failure: wrong name or password, disabled or expired user; locked: user locked after repeated wrong passwords; throttled: too many failures from the source address).",
	}, []string{"result"})}
	for _, r := range loginResults {
		u.logins.WithLabelValues(r)
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(u.logins); err != nil {
			return nil, fmt.Errorf("register the web UI's metrics: %w", err)
		}
	}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	for _, n := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(funcs(u)).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		u.pages[page] = t
	}
	return u, nil
}

// Register puts the UI on mux: /ui/... and, for browsers, a redirect
// from / to /ui/.
func (u *UI) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	fileServer := http.StripPrefix("/ui/static/", http.FileServerFS(static))
	mux.Handle("GET /ui/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		gz(fileServer).ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /ui/masuk", u.loginPage)
	mux.HandleFunc("POST /ui/masuk", u.login)
	mux.HandleFunc("POST /ui/keluar", u.logout)
	mux.HandleFunc("GET /ui/bahasa", u.language)
	u.Handle(mux, "GET /ui/sandi", u.passwordPage)
	u.Handle(mux, "POST /ui/sandi", u.changePassword)
	for _, r := range routes {
		u.Handle(mux, r.pattern, r.h(u))
	}
	u.Handle(mux, "/ui/", func(c *Ctx) error {
		c.Status = http.StatusNotFound
		c.RenderPage("notfound", &Page{Title: c.T("notfound.title")})
		return nil
	})
}

// route is a page's handler, registered by its file's init.
type route struct {
	pattern string
	h       func(*UI) func(*Ctx) error
}

var routes []route

// page registers a handler for pattern (e.g. "GET /ui/gangguan").
func page(pattern string, h func(*UI) func(*Ctx) error) {
	routes = append(routes, route{pattern, h})
}

// Handle registers a handler that needs a logged-in user.
func (u *UI) Handle(mux *http.ServeMux, pattern string, h func(*Ctx) error) {
	mux.Handle(pattern, gz(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := u.principal(r)
		if err != nil {
			if !errors.Is(err, statedb.ErrNoSession) && !errors.Is(err, errNoCookie) &&
				!errors.Is(err, statedb.ErrUserDisabled) && !errors.Is(err, statedb.ErrUserExpired) {
				u.o.Logger.Error("reading a session failed", "path", r.URL.Path, "err", err)
				http.Error(w, "cannot check the session now: retry", http.StatusServiceUnavailable)
				return
			}
			if errors.Is(err, errNoCookie) {
				clearCookie(w, r)
			}
			target := "/ui/masuk"
			if r.Method == http.MethodGet && r.URL.Path != "/ui/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		c := u.newCtx(w, r, p)
		if err := h(c); err != nil {
			c.fail(err)
		}
	})))
}

var errNoCookie = errors.New("no session cookie")

func (u *UI) principal(r *http.Request) (*auth.Principal, error) {
	sec := auth.SessionSecret(r)
	if sec == "" {
		return nil, errNoCookie
	}
	id, err := u.o.Sessions.Session(r.Context(), sec)
	if err != nil {
		return nil, err
	}
	return auth.FromIdentity(id), nil
}

// Ctx is one request to a page.
type Ctx struct {
	u      *UI
	W      http.ResponseWriter
	R      *http.Request
	P      *auth.Principal // nil on the login page
	Lang   string
	Status int // of the rendered page; 0: 200
}

func (u *UI) newCtx(w http.ResponseWriter, r *http.Request, p *auth.Principal) *Ctx {
	return &Ctx{u: u, W: w, R: r, P: p, Lang: langOf(r)}
}

// T translates key into the request's language.
func (c *Ctx) T(key string) string { return translate(c.Lang, key) }

// APIError is an answer of the API that is not a success.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Msg) }

// maxAPIAnswer bounds an API answer the UI reads into memory.
const maxAPIAnswer = 64 << 20

// API calls the collector's API in-process as the page's user: the
// policy is checked first (403 as the Gate would answer), then the
// handler runs with the user's principal. body is JSON-encoded unless it
// is an io.Reader (sent as it is, with contentType). A JSON answer is
// decoded into out (its "data" member when it has one and out is not a
// *json.RawMessage of the whole).
func (c *Ctx) API(method, target string, body any, out any) error {
	return c.APIType(method, target, "application/json", body, out)
}

// APIType is API with the body's content type.
func (c *Ctx) APIType(method, target, contentType string, body any, out any) error {
	path, _, _ := strings.Cut(target, "?")
	if msg := c.u.o.Policy.Authorize(c.P, method, path); msg != "" {
		return &APIError{Status: http.StatusForbidden, Msg: msg}
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode the body of %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(auth.WithPrincipal(c.R.Context(), c.P), method, target, rd)
	if err != nil {
		return fmt.Errorf("call %s %s: %w", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.RemoteAddr = c.R.RemoteAddr
	req.Host = c.R.Host
	req.Header.Set("Accept-Language", c.Lang)
	rec := &recorder{h: http.Header{}}
	c.u.o.API.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 300 && rec.status < 400 {
		// The mux redirects a path that is not clean: a value of the
		// form made a segment "", "." or "..". No API call of the UI is
		// answered with a redirect.
		return &APIError{Status: http.StatusNotFound, Msg: fmt.Sprintf("%s %s: no such object (the address is not valid)", method, path)}
	}
	if rec.status >= 400 {
		var e struct {
			Error  string   `json:"error"`
			Errors []string `json:"errors"`
		}
		msg := strings.TrimSpace(rec.buf.String())
		if json.Unmarshal(rec.buf.Bytes(), &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &APIError{Status: rec.status, Msg: msg}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = rec.buf.Bytes()
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	data := rec.buf.Bytes()
	if _, whole := out.(*json.RawMessage); !whole && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) &&
		json.Unmarshal(data, &env) == nil && len(env.Data) > 0 {
		data = env.Data
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// recorder is the ResponseWriter of an in-process API call.
type recorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
	over   bool
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.buf.Len()+len(p) > maxAPIAnswer {
		r.over = true
		return 0, errors.New("answer too large for the web UI")
	}
	return r.buf.Write(p)
}

// Page is what every template gets.
type Page struct {
	Title   string
	Nav     string // the active menu entry
	Lang    string
	P       *auth.Principal
	User    string
	Flash   string // a success message
	Error   string // a failure message
	Data    any
	Now     time.Time
	Path    string
	Secure  bool // the connection is encrypted (or loopback)
	Version string
	loc     *time.Location
}

// SubPage is the page with other data, for a template a page includes
// (a table row, a form) that needs the page's methods.
func (p *Page) SubPage(data any) *Page {
	q := *p
	q.Data = data
	return &q
}

// Render writes page name with data.
func (c *Ctx) Render(name string, data any) {
	c.RenderPage(name, &Page{Data: data})
}

// RenderPage writes page name.
func (c *Ctx) RenderPage(name string, pg *Page) {
	t, ok := c.u.pages[name]
	if !ok {
		c.u.o.Logger.Error("no such page template", "page", name)
		http.Error(c.W, "no such page", http.StatusInternalServerError)
		return
	}
	pg.Lang, pg.P, pg.Now, pg.Path, pg.loc = c.Lang, c.P, c.u.o.Now(), c.R.URL.Path, c.u.o.Zone()
	pg.Secure, pg.Version = secureRequest(c.R), c.u.o.Version
	if c.P != nil {
		pg.User = c.P.Name
	}
	if pg.Nav == "" {
		pg.Nav = name
	}
	if pg.Flash == "" {
		if k := c.R.URL.Query().Get("ok"); k != "" && isFlash(k) {
			pg.Flash = c.T("flash." + k)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.u.o.Logger.Error("rendering a page failed", "page", name, "err", err)
		http.Error(c.W, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := c.W.Header()
	securityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	status := c.Status
	if status == 0 {
		status = http.StatusOK
	}
	c.W.WriteHeader(status)
	c.W.Write(buf.Bytes())
}

// CSP is the pages' Content-Security-Policy: no script at all, styles
// and images from the collector only, forms post to it only, never in a
// frame.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// Redirect answers a POST with 303 to target (a path under /ui/), with a
// flash message key.
func (c *Ctx) Redirect(target, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "ok=" + url.QueryEscape(flash)
	}
	http.Redirect(c.W, c.R, target, http.StatusSeeOther)
}

// fail shows an error page for an error a handler returned.
func (c *Ctx) fail(err error) {
	var ae *APIError
	pg := &Page{Title: c.T("error.title")}
	switch {
	case errors.As(err, &ae):
		c.Status = ae.Status
		pg.Error = ae.Msg
	case errors.Is(err, context.Canceled):
		return
	default:
		c.u.o.Logger.Error("a page failed", "path", c.R.URL.Path, "err", err)
		c.Status = http.StatusInternalServerError
		pg.Error = c.T("error.internal")
	}
	c.RenderPage("error", pg)
}

// secureRequest reports whether the request came over TLS (to the
// collector, or to a reverse proxy in front of it that says so with
// X-Forwarded-Proto: https) or to a loopback address, where browsers
// keep Secure cookies. The header can only add Secure to a cookie and
// drop the page's warning; a client that sends it falsely harms only
// itself.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// gz compresses the answer when the client takes gzip: a district office
// on a 256 kbit/s VSAT link gets a page in a fifth of the bytes.
func gz(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.close()
		h.ServeHTTP(gw, r)
	})
}

func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		return !ok || strings.Trim(q, "0.") != ""
	}
	return false
}

type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	started bool
	plain   bool
}

func (g *gzipWriter) WriteHeader(status int) {
	if g.started {
		return
	}
	g.started = true
	h := g.Header()
	// Redirects, empty answers and already-encoded ones stay as they are.
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || (status >= 300 && status < 400) ||
		h.Get("Content-Encoding") != "" {
		g.plain = true
		g.ResponseWriter.WriteHeader(status)
		return
	}
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	g.zw, _ = gzip.NewWriterLevel(g.ResponseWriter, gzip.BestSpeed)
	g.ResponseWriter.WriteHeader(status)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.started {
		g.WriteHeader(http.StatusOK)
	}
	if g.plain {
		return g.ResponseWriter.Write(p)
	}
	return g.zw.Write(p)
}

func (g *gzipWriter) close() {
	if g.zw != nil {
		g.zw.Close()
	}
}

// Browser reports whether a request for / comes from a browser (which
// asks for HTML), to be sent to the UI.
func Browser(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
