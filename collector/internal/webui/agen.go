package webui

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The Agen page: the agents with their last heartbeat, version and
// queue backlog (GET /api/v1/agents), and for an admin without OPD
// scope the tokens (GET, POST /api/v1/tokens, DELETE
// /api/v1/tokens/{id}). A new token is shown once, in the answer to
// the POST that made it (never in a URL or a redirect; RenderPage sends
// Cache-Control: no-store).
//
// Enrolment codes (a new box trading a one-time code for its own
// token) and the agents' fleet columns are in agen_kode.go.

func init() {
	texts(map[string][2]string{
		"agen.title":             {"Agen", "Agents"},
		"agen.list":              {"Agen pemantau", "Monitoring agents"},
		"agen.err":               {"Daftar agen tidak tersedia", "The agent list is not available"},
		"agen.col.agent":         {"Agen", "Agent"},
		"agen.col.site":          {"Lokasi", "Site"},
		"agen.col.opd":           {"OPD", "OPD"},
		"agen.col.version":       {"Versi", "Version"},
		"agen.col.seen":          {"Terakhir terlihat", "Last seen"},
		"agen.col.queue":         {"Antrean (titik)", "Queue (points)"},
		"agen.col.oldest":        {"Data tertua di antrean", "Oldest queued data"},
		"agen.col.state":         {"Status", "State"},
		"agen.silent":            {"diam", "silent"},
		"agen.active":            {"aktif", "active"},
		"agen.silent.count":      {"%d agen diam: heartbeat terakhirnya lebih lama dari batas aturan AgentSilent.", "%d agent(s) silent: their last heartbeat is older than the AgentSilent rule allows."},
		"agen.more":              {"%d agen lagi tidak ditampilkan; gunakan saringan.", "%d more agents are not shown; use the filter."},
		"agen.filter":            {"Saring agen", "Filter agents"},
		"agen.filter.go":         {"Tampilkan", "Show"},
		"agen.tokens":            {"Token", "Tokens"},
		"agen.tokens.intro":      {"Token agen hanya dapat menulis data pengukuran; token API (pemantau, operator, admin) untuk Grafana dan skrip. Token disimpan dalam bentuk hash dan hanya ditampilkan sekali.", "Agent tokens only write measurements; API tokens (viewer, operator, admin) are for Grafana and scripts. Tokens are stored hashed and shown once."},
		"agen.tokens.more":       {"%d token lama lainnya tidak ditampilkan (pantau-collector token list menampilkan semuanya).", "%d more old tokens are not shown (pantau-collector token list shows them all)."},
		"agen.new.agent":         {"Buat token agen", "Create an agent token"},
		"agen.new.api":           {"Buat token API", "Create an API token"},
		"agen.f.agent":           {"ID agen", "Agent id"},
		"agen.f.sites":           {"Lokasi yang boleh ditulis (opsional)", "Sites it may write (optional)"},
		"agen.f.sites.hint":      {"ID lokasi dipisah koma; kosong: semua lokasi", "site ids separated by commas; empty: every site"},
		"agen.f.desc":            {"Keterangan (opsional)", "Description (optional)"},
		"agen.f.name":            {"Nama token", "Token name"},
		"agen.f.role":            {"Peran", "Role"},
		"agen.f.opds":            {"OPD (opsional)", "OPDs (optional)"},
		"agen.f.opds.hint":       {"ID OPD dipisah koma; kosong: semua OPD", "OPD ids separated by commas; empty: every OPD"},
		"agen.f.expires":         {"Berlaku sampai (opsional)", "Expires (optional)"},
		"agen.f.expires.hint":    {"durasi (90d, 12h) atau tanggal (2027-06-30); kosong: tidak kedaluwarsa", "a duration (90d, 12h) or a date (2027-06-30); empty: never"},
		"agen.create":            {"Buat token", "Create the token"},
		"agen.created":           {"Token baru %s", "New token %s"},
		"agen.created.warn":      {"Salin token ini sekarang dan simpan di tempat aman: token tidak akan ditampilkan lagi. Jika hilang, cabut dan buat yang baru.", "Copy this token now and keep it safe: it is not shown again. If it is lost, revoke it and create a new one."},
		"agen.created.label":     {"Token (pilih semua lalu salin)", "Token (select all and copy)"},
		"agen.created.agenthint": {"Di agen: simpan ke berkas token (misalnya /etc/pantau/agent.token, mode 0600) yang disebut collectors[].token_file di agent.yml.", "On the agent: put it in the token file (for example /etc/pantau/agent.token, mode 0600) that collectors[].token_file in agent.yml names."},
		"agen.failed":            {"Token tidak dibuat", "The token was not created"},
		"agen.col.id":            {"ID", "ID"},
		"agen.col.kind":          {"Jenis / peran", "Kind / role"},
		"agen.col.who":           {"Nama / agen", "Name / agent"},
		"agen.col.scope":         {"Cakupan", "Scope"},
		"agen.col.created":       {"Dibuat", "Created"},
		"agen.col.expires":       {"Kedaluwarsa", "Expires"},
		"agen.col.action":        {"Tindakan", "Action"},
		"agen.kind.agent":        {"agen", "agent"},
		"agen.scope.allsites":    {"semua lokasi", "every site"},
		"agen.tstate.active":     {"aktif", "active"},
		"agen.tstate.revoked":    {"dicabut", "revoked"},
		"agen.tstate.expired":    {"kedaluwarsa", "expired"},
		"agen.revoke":            {"Cabut", "Revoke"},
		"agen.revoke.title":      {"Cabut token?", "Revoke the token?"},
		"agen.revoke.text":       {"Token ini langsung berhenti berfungsi: agen atau aplikasi yang memakainya tidak dapat lagi mengirim atau membaca data. Tindakan ini tidak dapat dibatalkan.", "The token stops working at once: the agent or application that uses it can no longer send or read data. This cannot be undone."},
		"agen.revoke.yes":        {"Ya, cabut token", "Yes, revoke the token"},
		"agen.revoke.failed":     {"Token tidak dicabut", "The token was not revoked"},
		"agen.revoke.unknown":    {"Tidak ada token aktif dengan ID itu.", "There is no active token with that id."},
	})
	flash(map[string][2]string{
		"cabut": {"Token dicabut; token itu tidak lagi diterima.", "The token was revoked; it is no longer accepted."},
	})
	page("GET /ui/agen", func(u *UI) func(*Ctx) error { return u.agen })
	page("POST /ui/agen/token", func(u *UI) func(*Ctx) error { return u.agenCreateToken })
	page("GET /ui/agen/cabut", func(u *UI) func(*Ctx) error { return u.agenRevokeForm })
	// A GET of the token's answer (the language switch, a reload) shows
	// the list: the token is not shown again.
	page("GET /ui/agen/token", func(*UI) func(*Ctx) error {
		return func(c *Ctx) error { c.Redirect("/ui/agen", ""); return nil }
	})
	page("POST /ui/agen/cabut", func(u *UI) func(*Ctx) error { return u.agenRevoke })
}

// Limits of the Agen page.
const (
	maxAgentRows = 150
	maxTokenRows = 100
)

// agentRow is a row of GET /api/v1/agents.
type agentRow struct {
	ID                    string     `json:"id"`
	Site                  string     `json:"site"`
	OPD                   string     `json:"opd"`
	Version               string     `json:"version"`
	LastSeen              *time.Time `json:"last_seen"`
	Silent                bool       `json:"silent"`
	QueuePoints           *float64   `json:"queue_points"`
	QueueOldestAgeSeconds *float64   `json:"queue_oldest_age_seconds"`
	Fleet                 *fleetCols `json:"fleet"`
}

// Seen is the last heartbeat's time (zero: none).
func (a agentRow) Seen() time.Time {
	if a.LastSeen == nil {
		return time.Time{}
	}
	return *a.LastSeen
}

// tokenRow is a row of GET /api/v1/tokens.
type tokenRow struct {
	ID          string    `json:"id"`
	Role        string    `json:"role"`
	Name        string    `json:"name"`
	OPDs        []string  `json:"opds"`
	Agent       string    `json:"agent"`
	Sites       []string  `json:"sites"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	State       string    `json:"state"`
}

// tokenForm is what the token forms were filled with.
type tokenForm struct {
	Kind                                          string // agent or api
	Agent, Sites, Name, Role, OPDs, Expires, Desc string
}

// newToken is a token just made: shown once.
type newToken struct {
	Secret string
	Row    tokenRow
}

// agenView is the page's data.
type agenView struct {
	Q          string
	Agents     []agentRow
	AgentsMore int
	Silent     int
	AgentsErr  string
	CanTokens  bool
	Tokens     []tokenRow
	TokensMore int
	Form       tokenForm
	New        *newToken
	Confirm    *tokenRow
	// Enrolment codes: for an unscoped admin.
	CanCodes  bool
	Codes     []codeRow
	CodesMore int
	Sites     []siteOption
	CodeForm  codeForm
	NewCode   *newCode
}

func (u *UI) canTokens(c *Ctx) bool {
	return u.o.Policy.Authorize(c.P, http.MethodPost, "/api/v1/tokens") == ""
}

func (u *UI) agen(c *Ctx) error {
	v := &agenView{Q: strings.TrimSpace(c.R.URL.Query().Get("q")), Form: tokenForm{Role: "viewer"}}
	return u.renderAgen(c, v, "")
}

// renderAgen reads the agents and (for an admin) the tokens and renders
// the page with errMsg.
func (u *UI) renderAgen(c *Ctx, v *agenView, errMsg string) error {
	v.CanTokens = u.canTokens(c)
	if v.Confirm == nil {
		var agents []agentRow
		if err := c.API(http.MethodGet, "/api/v1/agents", nil, &agents); err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				return err
			}
			v.AgentsErr = c.T("agen.err") + ": " + ae.Msg
		}
		agents = filterRows(agents, v.Q, func(a agentRow) []string { return []string{a.ID, a.Site, a.OPD, a.Version} })
		for _, a := range agents {
			if a.Silent {
				v.Silent++
			}
		}
		if len(agents) > maxAgentRows {
			v.AgentsMore, agents = len(agents)-maxAgentRows, agents[:maxAgentRows]
		}
		v.Agents = agents
		if v.CanTokens {
			tokens, err := u.tokens(c)
			if err != nil {
				return err
			}
			if len(tokens) > maxTokenRows {
				v.TokensMore, tokens = len(tokens)-maxTokenRows, tokens[:maxTokenRows]
			}
			v.Tokens = tokens
		}
		if err := u.loadCodes(c, v); err != nil {
			return err
		}
	}
	title := c.T("agen.title")
	if v.Confirm != nil {
		title = c.T("agen.revoke.title")
	}
	c.RenderPage("agen", &Page{Title: title, Nav: "agen", Error: errMsg, Data: v})
	return nil
}

// tokens lists the tokens: active ones first, then the newest.
func (u *UI) tokens(c *Ctx) ([]tokenRow, error) {
	var list []tokenRow
	if err := c.API(http.MethodGet, "/api/v1/tokens", nil, &list); err != nil {
		return nil, err
	}
	rank := func(t tokenRow) int {
		if t.State == "active" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(list, func(a, b tokenRow) int {
		if r := cmp.Compare(rank(a), rank(b)); r != 0 {
			return r
		}
		return b.Created.Compare(a.Created)
	})
	return list, nil
}

// splitIDs reads a list of ids separated by commas, semicolons or
// spaces; empty items are dropped.
func splitIDs(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// agenCreateToken makes an agent or API token through the API and shows
// it once, in this answer.
func (u *UI) agenCreateToken(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	pf := c.R.PostForm
	get := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := tokenForm{Kind: get("kind"), Agent: get("agent"), Sites: get("sites"), Name: get("name"), Role: get("role"),
		OPDs: get("opds"), Expires: get("expires"), Desc: get("description")}
	body := map[string]any{"description": f.Desc}
	if f.Kind == "agent" {
		body["agent"] = f.Agent
		if s := splitIDs(f.Sites); s != nil {
			body["sites"] = s
		}
	} else {
		f.Kind = "api"
		body["name"], body["role"] = f.Name, f.Role
		if o := splitIDs(f.OPDs); o != nil {
			body["opds"] = o
		}
		if f.Expires != "" {
			body["expires"] = f.Expires
		}
	}
	v := &agenView{Form: f}
	var raw json.RawMessage
	if err := c.API(http.MethodPost, "/api/v1/tokens", body, &raw); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		c.Status = ae.Status
		return u.renderAgen(c, v, c.T("agen.failed")+": "+ae.Msg)
	}
	var created struct {
		Token string   `json:"token"`
		Data  tokenRow `json:"data"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.Token == "" {
		return errors.New("the API's answer to POST /api/v1/tokens has no token")
	}
	v.New = &newToken{Secret: created.Token, Row: created.Data}
	v.Form = tokenForm{Role: "viewer"}
	return u.renderAgen(c, v, "")
}

// agenRevokeForm asks for a confirmation before a token is revoked.
func (u *UI) agenRevokeForm(c *Ctx) error {
	id := c.R.URL.Query().Get("id")
	tokens, err := u.tokens(c)
	if err != nil {
		return err
	}
	for i, t := range tokens {
		if t.ID == id && t.State == "active" {
			return u.renderAgen(c, &agenView{Confirm: &tokens[i]}, "")
		}
	}
	return &APIError{Status: http.StatusNotFound, Msg: c.T("agen.revoke.unknown")}
}

// agenRevoke revokes a token through the API.
func (u *UI) agenRevoke(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	id := c.R.PostForm.Get("id")
	if err := c.API(http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		c.Status = ae.Status
		return u.renderAgen(c, &agenView{Form: tokenForm{Role: "viewer"}}, c.T("agen.revoke.failed")+": "+ae.Msg)
	}
	c.Redirect("/ui/agen", "cabut")
	return nil
}

// Roles are the roles an API token may have.
func (*agenView) Roles() []string { return []string{"viewer", "operator", "admin"} }
