package webui

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

func init() {
	texts(map[string][2]string{
		"login.title":        {"Masuk", "Log in"},
		"login.intro":        {"Masuk dengan nama pengguna dan kata sandi Pantau Anda.", "Log in with your Pantau user name and password."},
		"login.name":         {"Nama pengguna", "User name"},
		"login.password":     {"Kata sandi", "Password"},
		"login.submit":       {"Masuk", "Log in"},
		"login.bad":          {"Nama pengguna atau kata sandi salah.", "Wrong user name or password."},
		"login.locked":       {"Akun ini dikunci karena kata sandi salah berulang kali, sampai %s. Tunggu, atau minta admin membukanya (pantau-collector user unlock).", "This account is locked after repeated wrong passwords until %s. Wait, or ask an admin to unlock it (pantau-collector user unlock)."},
		"login.disabled":     {"Akun ini dinonaktifkan.", "This account is disabled."},
		"login.expired":      {"Masa berlaku akun ini sudah habis.", "This account has expired."},
		"login.throttled":    {"Terlalu banyak percobaan gagal dari alamat ini. Coba lagi dalam %d detik.", "Too many failed attempts from this address. Try again in %d seconds."},
		"login.missing":      {"Isi nama pengguna dan kata sandi.", "Fill in the user name and the password."},
		"login.token":        {"Token API tidak dipakai untuk masuk di sini; gunakan nama pengguna dan kata sandi (pantau-collector user add).", "API tokens do not log in here; use a user name and password (pantau-collector user add)."},
		"password.title":     {"Ganti kata sandi", "Change password"},
		"password.current":   {"Kata sandi sekarang", "Current password"},
		"password.new":       {"Kata sandi baru", "New password"},
		"password.repeat":    {"Ulangi kata sandi baru", "New password again"},
		"password.hint":      {"Paling sedikit 12 karakter. Sesi Anda yang lain akan diakhiri.", "At least 12 characters. Your other sessions are ended."},
		"password.mismatch":  {"Kedua kata sandi baru tidak sama.", "The two new passwords differ."},
		"password.weak":      {"Kata sandi baru harus 12 sampai 1024 karakter dan berbeda dari yang sekarang.", "The new password must have 12 to 1024 characters and differ from the current one."},
		"password.wrong":     {"Kata sandi sekarang salah.", "The current password is wrong."},
		"password.tokenuser": {"Hanya pengguna (bukan token) yang punya kata sandi.", "Only users (not tokens) have a password."},
	})
	flash(map[string][2]string{
		"password": {"Kata sandi sudah diganti.", "The password has been changed."},
		"logout":   {"Anda sudah keluar.", "You have logged out."},
	})
}

// loginForm is the login page's data.
type loginForm struct {
	Name, Next string
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	c := u.newCtx(w, r, nil)
	if _, err := u.principal(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.RenderPage("login", &Page{Title: c.T("login.title"), Data: loginForm{Next: safeNext(r.URL.Query().Get("next"))}})
}

// maxFormBytes bounds a form without a file.
const maxFormBytes = 64 << 10

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	c := u.newCtx(w, r, nil)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.Status = http.StatusBadRequest
		c.RenderPage("login", &Page{Title: c.T("login.title"), Error: c.T("login.missing")})
		return
	}
	form := loginForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Next: safeNext(r.PostForm.Get("next"))}
	fail := func(status int, msg string) {
		c.Status = status
		c.RenderPage("login", &Page{Title: c.T("login.title"), Error: msg, Data: form})
	}
	password := r.PostForm.Get("password")
	if form.Name == "" || password == "" {
		fail(http.StatusBadRequest, c.T("login.missing"))
		return
	}
	src := auth.SourceOf(r)
	now := u.o.Now()
	if u.o.Guard != nil {
		if wait := u.o.Guard.Blocked(src, now); wait > 0 {
			u.logins.WithLabelValues("throttled").Inc()
			w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			fail(http.StatusTooManyRequests, fmt.Sprintf(c.T("login.throttled"), int(math.Ceil(wait.Seconds()))))
			return
		}
	}
	secret, id, err := u.o.Sessions.Login(r.Context(), form.Name, password)
	if err != nil {
		var locked *statedb.LockedError
		msg, result := c.T("login.bad"), "failure"
		switch {
		case errors.As(err, &locked):
			result = "locked"
			pg := &Page{Lang: c.Lang, loc: u.o.Zone()}
			msg = fmt.Sprintf(c.T("login.locked"), pg.Stamp(locked.Until))
		case errors.Is(err, statedb.ErrUserDisabled):
			msg = c.T("login.disabled")
		case errors.Is(err, statedb.ErrUserExpired):
			msg = c.T("login.expired")
		case errors.Is(err, statedb.ErrBadPassword):
		default:
			u.o.Logger.Error("login failed", "user", form.Name, "source", src, "err", err)
			fail(http.StatusServiceUnavailable, c.T("error.internal"))
			return
		}
		u.logins.WithLabelValues(result).Inc()
		if u.o.Guard != nil {
			if logIt, suppressed := u.o.Guard.Refused(src, true, now); logIt {
				u.o.Logger.Warn("web login failed", "user", form.Name, "source", src, "reason", err.Error(), "suppressed_since_last", suppressed)
			}
		}
		fail(http.StatusUnauthorized, msg)
		return
	}
	u.logins.WithLabelValues("success").Inc()
	u.o.Logger.Info("web login", "user", id.User, "source", src)
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, form.Next, http.StatusSeeOther)
}

// safeNext is where a login goes on: a path of the UI, never another
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "/ui//") ||
		strings.HasPrefix(next, "/ui/masuk") {
		return "/ui/"
	}
	if _, err := url.ParseRequestURI(next); err != nil {
		return "/ui/"
	}
	return next
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secureRequest(r), SameSite: http.SameSiteStrictMode})
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if sec := auth.SessionSecret(r); sec != "" {
		if err := u.o.Sessions.Logout(r.Context(), sec); err != nil {
			u.o.Logger.Error("logout failed", "err", err)
			http.Error(w, "cannot log out now: retry", http.StatusServiceUnavailable)
			return
		}
	}
	clearCookie(w, r)
	http.Redirect(w, r, "/ui/masuk?ok=logout", http.StatusSeeOther)
}

// language switches the UI's language (a cookie of a year) and goes back.
func (u *UI) language(w http.ResponseWriter, r *http.Request) {
	lang := LangID
	if r.URL.Query().Get("lang") == LangEN {
		lang = LangEN
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
		Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
	next := r.URL.Query().Get("next")
	if next == "/ui/masuk" || strings.HasPrefix(next, "/ui/masuk?") {
		http.Redirect(w, r, "/ui/masuk", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (u *UI) passwordPage(c *Ctx) error {
	c.RenderPage("password", &Page{Title: c.T("password.title"), Nav: "sandi"})
	return nil
}

func (u *UI) changePassword(c *Ctx) error {
	r := c.R
	r.Body = http.MaxBytesReader(c.W, r.Body, maxFormBytes)
	fail := func(status int, key string) error {
		c.Status = status
		c.RenderPage("password", &Page{Title: c.T("password.title"), Nav: "sandi", Error: c.T(key)})
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return fail(http.StatusBadRequest, "password.weak")
	}
	if c.P.Kind != "user" {
		return fail(http.StatusBadRequest, "password.tokenuser")
	}
	cur, next, again := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("repeat")
	if next != again {
		return fail(http.StatusBadRequest, "password.mismatch")
	}
	err := u.o.Sessions.ChangePassword(r.Context(), c.P.ID, cur, next, auth.SessionSecret(r))
	switch {
	case errors.Is(err, statedb.ErrBadPassword), errors.Is(err, statedb.ErrUserLocked):
		return fail(http.StatusBadRequest, "password.wrong")
	case errors.Is(err, statedb.ErrWeakPassword):
		return fail(http.StatusBadRequest, "password.weak")
	case err != nil:
		return err
	}
	if u.o.Audit != nil {
		if err := auth.Record(auth.WithPrincipal(r.Context(), c.P), u.o.Audit, r.WithContext(auth.WithPrincipal(r.Context(), c.P)),
			"user/"+c.P.ID, "password changed; other sessions ended"); err != nil {
			u.o.Logger.Error("writing an audit row failed", "object", "user/"+c.P.ID, "err", err)
		}
	}
	c.Redirect("/ui/sandi", "password")
	return nil
}

// Can reports whether the page's user has role.
func (p *Page) Can(role string) bool { return p.P != nil && p.P.Can(role) }

// Unscoped reports whether the page's user sees every OPD.
func (p *Page) Unscoped() bool { return p.P != nil && !p.P.Scoped() }

// Scope names what the user sees: "semua OPD" or the OPD ids.
func (p *Page) Scope() string {
	if p.P == nil || !p.P.Scoped() {
		return p.T("scope.all")
	}
	return strings.Join(p.P.OPDs, ", ")
}

// Role is the user's role in the language.
func (p *Page) Role() string {
	if p.P == nil {
		return ""
	}
	return p.T("role." + p.P.Role)
}
