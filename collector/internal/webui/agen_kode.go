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

// Enrolment codes on the Agen page (issue 22): an admin without OPD
// scope creates a one-time code for a site (GET /api/v1/inventory for
// the picker, POST /api/v1/enrollments), sees it once, in the answer to
// the POST that made it (never in a URL or a redirect; RenderPage sends
// Cache-Control: no-store), lists the codes (GET /api/v1/enrollments)
// and revokes unused ones (DELETE /api/v1/enrollments/{id}). The agents
// table shows each agent's fleet state from GET /api/v1/agents.

func init() {
	texts(map[string][2]string{
		"agen.enrol":               {"Kode pendaftaran agen", "Agent enrolment codes"},
		"agen.enrol.intro":         {"Kode pendaftaran sekali pakai memungkinkan perangkat baru di lokasi mendapatkan token agennya sendiri: jalankan perintah yang ditampilkan di perangkat itu. Kode hanya berlaku sekali dan kedaluwarsa; yang disimpan hanya hash-nya.", "A one-time enrolment code lets a new box at a site get its own agent token: run the command shown on that box. The code works once and expires; only its hash is stored."},
		"agen.enrol.new":           {"Buat kode pendaftaran", "Create an enrolment code"},
		"agen.enrol.f.site":        {"Lokasi", "Site"},
		"agen.enrol.f.agent":       {"Nama agen (opsional)", "Agent name (optional)"},
		"agen.enrol.f.agent.hint":  {"kosong: perangkat memberi nama sendiri; nama agen yang sudah ada: agen itu diganti dan token lamanya dicabut", "empty: the box names itself; the name of an existing agent: that agent is replaced and its old tokens are revoked"},
		"agen.enrol.f.valid":       {"Berlaku selama", "Valid for"},
		"agen.enrol.f.desc":        {"Keterangan (opsional)", "Description (optional)"},
		"agen.enrol.valid.1h":      {"1 jam", "1 hour"},
		"agen.enrol.valid.24h":     {"24 jam", "24 hours"},
		"agen.enrol.valid.7d":      {"7 hari", "7 days"},
		"agen.enrol.valid.30d":     {"30 hari", "30 days"},
		"agen.enrol.create":        {"Buat kode", "Create the code"},
		"agen.enrol.created":       {"Kode pendaftaran baru %s", "New enrolment code %s"},
		"agen.enrol.created.warn":  {"Salin kode ini sekarang: kode tidak akan ditampilkan lagi. Kode berlaku sekali, sampai %s.", "Copy this code now: it is not shown again. It works once, until %s."},
		"agen.enrol.created.label": {"Kode (pilih semua lalu salin)", "Code (select all and copy)"},
		"agen.enrol.created.cmd":   {"Perintah di perangkat agen (pilih semua lalu salin)", "Command on the agent's box (select all and copy)"},
		"agen.enrol.nopin":         {"Kolektor ini melayani HTTP biasa: kode tidak membawa sidik sertifikat, jadi kontak pertama perangkat tidak terlindung dari penyadapan.", "This collector serves plain HTTP: the code carries no certificate pin, so the box's first contact is not protected against interception."},
		"agen.enrol.failed":        {"Kode tidak dibuat", "The code was not created"},
		"agen.enrol.nosites":       {"Inventaris belum memuat lokasi: tambahkan lokasi di Inventaris terlebih dahulu.", "The inventory has no sites yet: add a site under Inventory first."},
		"agen.enrol.col.id":        {"ID", "ID"},
		"agen.enrol.col.site":      {"Lokasi", "Site"},
		"agen.enrol.col.agent":     {"Agen", "Agent"},
		"agen.enrol.col.expires":   {"Berlaku sampai", "Valid until"},
		"agen.enrol.col.state":     {"Status", "State"},
		"agen.enrol.col.action":    {"Tindakan", "Action"},
		"agen.enrol.anyname":       {"(dinamai perangkat)", "(named by the box)"},
		"agen.enrol.usedby":        {"oleh %s dari %s", "by %s from %s"},
		"agen.enrol.revoke":        {"Cabut kode", "Revoke the code"},
		"agen.enrol.revoke.failed": {"Kode tidak dicabut", "The code was not revoked"},
		"agen.enrol.more":          {"%d kode lama lainnya tidak ditampilkan (pantau-collector enroll list menampilkan semuanya).", "%d more old codes are not shown (pantau-collector enroll list shows them all)."},
		"agen.estate.active":       {"aktif", "active"},
		"agen.estate.used":         {"terpakai", "used"},
		"agen.estate.expired":      {"kedaluwarsa", "expired"},
		"agen.estate.revoked":      {"dicabut", "revoked"},
		"agen.col.config":          {"Konfigurasi", "Config"},
		"agen.col.clock":           {"Selisih jam", "Clock offset"},
		"agen.col.update":          {"Pembaruan", "Update"},
		"agen.cfg.current":         {"terkini", "current"},
		"agen.cfg.pending":         {"menunggu %s", "%s pending"},
		"agen.cfg.failed":          {"GAGAL %s", "FAILED %s"},
		"agen.cfg.unhealthy":       {"tidak sehat", "unhealthy"},
		"agen.cfg.rotation":        {"rotasi token menunggu", "token rotation pending"},
		"agen.upd.offered":         {"ditawarkan", "offered"},
		"agen.upd.downloading":     {"mengunduh", "downloading"},
		"agen.upd.installed":       {"terpasang", "installed"},
		"agen.upd.failed":          {"gagal", "failed"},
		"agen.upd.rolled_back":     {"dikembalikan", "rolled back"},
	})
	flash(map[string][2]string{
		"kodecabut": {"Kode pendaftaran dicabut; kode itu tidak lagi dapat dipakai.", "The enrolment code was revoked; it can no longer be used."},
	})
	page("POST /ui/agen/kode", func(u *UI) func(*Ctx) error { return u.agenCreateCode })
	// A GET of the code's answer shows the list: the code is not shown
	// again.
	page("GET /ui/agen/kode", func(*UI) func(*Ctx) error {
		return func(c *Ctx) error { c.Redirect("/ui/agen", ""); return nil }
	})
	page("POST /ui/agen/kode/cabut", func(u *UI) func(*Ctx) error { return u.agenRevokeCode })
}

// maxCodeRows bounds the codes listed.
const maxCodeRows = 50

// validities are the choices of the code form (the API takes any
// duration from 1m to 30d).
var validities = []string{"1h", "24h", "7d", "30d"}

// fleetCols is an agent's fleet state as GET /api/v1/agents shows it.
type fleetCols struct {
	ConfigOffered      string  `json:"config_offered"`
	ConfigApplied      string  `json:"config_applied"`
	ConfigCurrent      bool    `json:"config_current"`
	ConfigStatus       string  `json:"config_status"`
	ConfigError        string  `json:"config_error"`
	Healthy            bool    `json:"healthy"`
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
	UpdateState        string  `json:"update_state"`
	UpdateVersion      string  `json:"update_version"`
	RotationPending    bool    `json:"rotation_pending"`
}

// Short is the first 8 digits of a hash.
func (*fleetCols) Short(h string) string { return h[:min(8, len(h))] }

// codeRow is a row of GET /api/v1/enrollments.
type codeRow struct {
	ID        string    `json:"id"`
	Site      string    `json:"site"`
	Agent     string    `json:"agent"`
	Expires   time.Time `json:"expires"`
	State     string    `json:"state"`
	Used      time.Time `json:"used"`
	UsedAgent string    `json:"used_agent"`
	UsedFrom  string    `json:"used_from"`
	Created   time.Time `json:"created"`
}

// codeForm is what the code form was filled with.
type codeForm struct{ Site, Agent, Valid, Desc string }

// newCode is a code just made: shown once.
type newCode struct {
	ID, Code, Command string
	Expires           time.Time
	NoPin             bool
}

// siteOption is a site of the picker.
type siteOption struct{ ID, Name string }

func (u *UI) canCodes(c *Ctx) bool {
	return u.o.Policy.Authorize(c.P, http.MethodPost, "/api/v1/enrollments") == ""
}

// loadCodes reads the codes and the site picker for an admin.
func (u *UI) loadCodes(c *Ctx, v *agenView) error {
	v.CanCodes = u.canCodes(c)
	if !v.CanCodes {
		return nil
	}
	if v.CodeForm.Valid == "" {
		v.CodeForm.Valid = "24h"
	}
	var list []codeRow
	if err := c.API(http.MethodGet, "/api/v1/enrollments", nil, &list); err != nil {
		return err
	}
	rank := func(r codeRow) int {
		if r.State == "active" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(list, func(a, b codeRow) int {
		if r := cmp.Compare(rank(a), rank(b)); r != 0 {
			return r
		}
		return b.Created.Compare(a.Created)
	})
	if len(list) > maxCodeRows {
		v.CodesMore, list = len(list)-maxCodeRows, list[:maxCodeRows]
	}
	v.Codes = list
	inv, err := c.inventory()
	if err != nil {
		return err
	}
	for _, s := range inv.Sites {
		v.Sites = append(v.Sites, siteOption{ID: s.ID, Name: s.Name})
	}
	slices.SortFunc(v.Sites, func(a, b siteOption) int { return cmp.Compare(a.ID, b.ID) })
	return nil
}

// Validities are the choices of the code form.
func (*agenView) Validities() []string { return validities }

// agenCreateCode makes a code through the API and shows it once, in
// this answer.
func (u *UI) agenCreateCode(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	pf := c.R.PostForm
	get := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := codeForm{Site: get("site"), Agent: get("agent"), Valid: get("valid"), Desc: get("description")}
	v := &agenView{CodeForm: f, Form: tokenForm{Role: "viewer"}}
	var raw json.RawMessage
	body := map[string]string{"site": f.Site, "agent": f.Agent, "valid": f.Valid, "description": f.Desc}
	if err := c.API(http.MethodPost, "/api/v1/enrollments", body, &raw); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		c.Status = ae.Status
		return u.renderAgen(c, v, c.T("agen.enrol.failed")+": "+ae.Msg)
	}
	var created struct {
		Code    string  `json:"code"`
		Command string  `json:"command"`
		Warning string  `json:"warning"`
		Data    codeRow `json:"data"`
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.Code == "" {
		return errors.New("the API's answer to POST /api/v1/enrollments has no code")
	}
	v.NewCode = &newCode{ID: created.Data.ID, Code: created.Code, Command: created.Command, Expires: created.Data.Expires, NoPin: created.Warning != ""}
	v.CodeForm = codeForm{}
	return u.renderAgen(c, v, "")
}

// agenRevokeCode revokes an unused code through the API.
func (u *UI) agenRevokeCode(c *Ctx) error {
	c.R.Body = http.MaxBytesReader(c.W, c.R.Body, maxFormBytes)
	if err := c.R.ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	id := c.R.PostForm.Get("id")
	if err := c.API(http.MethodDelete, "/api/v1/enrollments/"+url.PathEscape(id), nil, nil); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		c.Status = ae.Status
		return u.renderAgen(c, &agenView{Form: tokenForm{Role: "viewer"}}, c.T("agen.enrol.revoke.failed")+": "+ae.Msg)
	}
	c.Redirect("/ui/agen", "kodecabut")
	return nil
}
