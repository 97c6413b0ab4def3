package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// DefaultMaxInventoryBytes is auth.max_inventory_bytes's default.
const DefaultMaxInventoryBytes = 8 << 20

// BodyName is the file name the inventory's problems name in a PUT's
// answer ("request body:12:5: links[3].site: ...").
const BodyName = "request body"

// invState is the inventory endpoint's: one replacement at a time, and
// what PUTs came to.
type invState struct {
	mu      sync.Mutex
	updates *prometheus.CounterVec
}

func (s *invState) init() {
	s.updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pantau_collector_inventory_updates_total",
		Help: "PUT /api/v1/inventory requests by result: applied, invalid (refused with its problems), too_large (over auth.max_inventory_bytes), failed (the file could not be written).",
	}, []string{"result"})
	for _, r := range []string{"applied", "invalid", "too_large", "failed"} {
		s.updates.WithLabelValues(r)
	}
}

// Collectors are the admin API's metrics.
func (a *Admin) Collectors() []prometheus.Collector { return []prometheus.Collector{a.inv.updates} }

// getInventory answers the inventory in force as YAML (the form of
// inventory.yml) or, with ?format=json, the same keys as JSON. A scoped
// credential gets only its OPDs' sites, links, devices and services.
// Contract fees and circuit ids are for admins only: a viewer or operator
// gets the inventory without them.
func (a *Admin) getInventory(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	if !p.Can(auth.RoleViewer) {
		writeError(w, http.StatusForbidden, "reading the inventory needs a viewer, operator or admin credential")
		return
	}
	format := "yaml"
	for k, v := range r.URL.Query() {
		if k != "format" || len(v) != 1 || v[0] != "yaml" && v[0] != "json" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: the only parameter is format=yaml or format=json", clipParam(k)))
			return
		}
		format = v[0]
	}
	var inv *inventory.Inventory
	if a.o.Inventory != nil {
		inv = a.o.Inventory()
	}
	if inv == nil {
		writeError(w, http.StatusNotFound, "no inventory is loaded: set inventory: in collector.yml to the inventory file and restart the collector")
		return
	}
	view, note := visibleInventory(inv, p)
	var buf bytes.Buffer
	if err := view.WriteYAML(&buf, "the collector's inventory in force"+note); err != nil {
		a.internal(w, "render the inventory", err)
		return
	}
	if format == "yaml" {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(buf.Bytes())
		return
	}
	var doc any
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		a.internal(w, "render the inventory", err)
		return
	}
	if doc == nil {
		doc = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	json.NewEncoder(w).Encode(doc)
}

// visibleInventory is what p may see of inv (a copy when anything is
// left out; inv itself is never changed), and a note on what was left
// out.
func visibleInventory(inv *inventory.Inventory, p *auth.Principal) (*inventory.Inventory, string) {
	redact := !p.Can(auth.RoleAdmin)
	if !redact && !p.Scoped() {
		return inv, ""
	}
	out := &inventory.Inventory{Defaults: inv.Defaults, File: inv.File}
	sites := map[string]bool{}
	for _, s := range inv.Sites {
		if p.Sees(s.OPD) {
			sites[s.ID] = true
		}
	}
	for _, s := range inv.Sites {
		if sites[s.ID] {
			if !sites[s.Parent] {
				s.Parent = ""
			}
			out.Sites = append(out.Sites, s)
		}
	}
	for _, l := range inv.Links {
		if !sites[l.Site] {
			continue
		}
		if redact {
			l.Circuit = ""
			if l.Contract != nil {
				c := *l.Contract
				c.MonthlyFee = 0
				l.Contract = &c
			}
		}
		out.Links = append(out.Links, l)
	}
	for _, d := range inv.Devices {
		if sites[d.Site] {
			out.Devices = append(out.Devices, d)
		}
	}
	for _, s := range inv.Services {
		if p.Sees(s.OPD) {
			out.Services = append(out.Services, s)
		}
	}
	var notes []string
	if p.Scoped() {
		notes = append(notes, "OPD "+strings.Join(p.OPDs, ", ")+" only")
	}
	if redact {
		notes = append(notes, "without contract fees and circuit ids")
	}
	return out, " (" + strings.Join(notes, "; ") + ")"
}

// putInventory replaces the inventory file with the body, once the body
// has passed the same validation as the file at start; the old file is
// kept as <file>.prev, and the new inventory is in force when the answer
// comes.
func (a *Admin) putInventory(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	file := ""
	if a.o.InventoryFile != nil {
		file = a.o.InventoryFile()
	}
	if file == "" {
		writeError(w, http.StatusConflict, "this collector has no inventory file: set inventory: in collector.yml (e.g. /etc/pantau/inventory.yml), restart the collector, then PUT the inventory")
		return
	}
	a.inv.mu.Lock()
	defer a.inv.mu.Unlock()
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxInventory.Load()))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		a.inv.updates.WithLabelValues("too_large").Inc()
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the inventory is larger than %d bytes (auth.max_inventory_bytes); nothing was changed", mbe.Limit))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the body failed: "+err.Error())
		return
	case len(bytes.TrimSpace(data)) == 0:
		a.inv.updates.WithLabelValues("invalid").Inc()
		writeError(w, http.StatusBadRequest, "empty body: send the whole inventory as YAML (GET /api/v1/inventory gives the one in force)")
		return
	}
	inv, err := inventory.Parse(BodyName, data)
	if err != nil {
		a.inv.updates.WithLabelValues("invalid").Inc()
		probs := problems(err)
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "error", "errorType": "bad_data",
			"error":  fmt.Sprintf("the inventory is not valid (%d problem(s)); nothing was changed:\n%s", len(probs), strings.Join(probs, "\n")),
			"errors": probs})
		return
	}
	var old *inventory.Inventory
	if a.o.Inventory != nil {
		old = a.o.Inventory()
	}
	path, backup, oldSum, err := replaceFile(file, data)
	if err != nil {
		a.inv.updates.WithLabelValues("failed").Inc()
		a.o.Logger.Error("replacing the inventory file failed", "file", file, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("%v: the inventory in force is unchanged; let the collector's user write that directory, or edit the file on the host", err))
		return
	}
	inv.File = file
	if a.o.SetInventory != nil {
		a.o.SetInventory(inv)
	}
	a.inv.updates.WithLabelValues("applied").Inc()
	sum := sha256.Sum256(data)
	summary := InventoryChange(old, inv) + "; sha256 " + oldSum + " → " + hex.EncodeToString(sum[:6])
	a.o.Logger.Info("inventory replaced through the API", "file", path, "by", auth.FromContext(r.Context()).String(), "change", summary)
	warning := a.record(r, "inventory", summary)
	done(w, http.StatusOK, map[string]any{"file": file, "backup": backup, "summary": summary,
		"sites": len(inv.Sites), "links": len(inv.Links), "devices": len(inv.Devices), "services": len(inv.Services)}, warning)
}

// problems are the lines of a joined validation error.
func problems(err error) []string {
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// replaceFile puts data at file (following a symbolic link to the real
// file): the old content goes to <real file>.prev, the new one to a
// temporary file in the same directory, fsynced and renamed over the old
// one, and the directory is fsynced. It returns the file written, the
// backup (or "" when there was no old file) and the start of the old
// content's SHA-256.
func replaceFile(file string, data []byte) (path, backup, oldSum string, err error) {
	path = file
	if p, err := filepath.EvalSymlinks(file); err == nil {
		path = p
	}
	mode := os.FileMode(0o640)
	oldSum = "none"
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
		sum := sha256.Sum256(old)
		oldSum = hex.EncodeToString(sum[:6])
		backup = path + ".prev"
		if err := writeAtomic(backup, old, mode); err != nil {
			return path, "", oldSum, fmt.Errorf("keep the old inventory as %s: %w", backup, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return path, "", oldSum, fmt.Errorf("read the old inventory %s: %w", path, err)
	}
	if err := writeAtomic(path, data, mode); err != nil {
		return path, backup, oldSum, fmt.Errorf("write the inventory %s: %w", path, err)
	}
	return path, backup, oldSum, nil
}

// writeAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename: nothing left to remove
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// InventoryChange describes a replacement for the audit log: the counts
// of sites, links, devices and services before → after, and the ids
// added and removed.
func InventoryChange(old, inv *inventory.Inventory) string {
	if old == nil {
		old = &inventory.Inventory{}
	}
	ids := func(inv *inventory.Inventory) (s, l, d, v []string) {
		for _, x := range inv.Sites {
			s = append(s, x.ID)
		}
		for _, x := range inv.Links {
			l = append(l, x.ID)
		}
		for _, x := range inv.Devices {
			d = append(d, x.ID)
		}
		for _, x := range inv.Services {
			v = append(v, x.ID)
		}
		return
	}
	bs, bl, bd, bv := ids(old)
	ns, nl, nd, nv := ids(inv)
	part := func(what string, before, after []string) string {
		s := fmt.Sprintf("%s %d → %d", what, len(before), len(after))
		if d := idDiff(before, after); d != "" {
			s += " (" + d + ")"
		}
		return s
	}
	return strings.Join([]string{part("sites", bs, ns), part("links", bl, nl), part("devices", bd, nd), part("services", bv, nv)}, ", ")
}

// idDiff lists the ids added (+) and removed (-), at most 5 of each.
func idDiff(before, after []string) string {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, x := range list {
			m[x] = true
		}
		return m
	}
	b, a := in(before), in(after)
	var add, del []string
	for x := range a {
		if !b[x] {
			add = append(add, "+"+x)
		}
	}
	for x := range b {
		if !a[x] {
			del = append(del, "-"+x)
		}
	}
	sort.Strings(add)
	sort.Strings(del)
	capped := func(l []string) []string {
		if len(l) > 5 {
			return append(l[:5:5], fmt.Sprintf("%d more", len(l)-5))
		}
		return l
	}
	return strings.Join(append(capped(add), capped(del)...), " ")
}
