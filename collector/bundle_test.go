package collector

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

const bundleInventory = `sites:
  - {id: dinkes, name: Dinas Kesehatan, kind: opd, timezone: WIT}
  - {id: dishub, name: Dinas Perhubungan, kind: opd, timezone: WIT}
links:
  - {id: dinkes-wan, site: dinkes, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.2}}
  - {id: dishub-wan, site: dishub, type: fibre, bandwidth: 20Mbps, icmp: {target: 127.0.0.3}}
devices:
  - {id: rtr-dinkes, site: dinkes, vendor: MikroTik, model: CCR2004, serial: SER-DINKES}
  - {id: rtr-dishub, site: dishub, vendor: MikroTik, model: CCR2004, serial: SER-DISHUB}
`

// bundleZip reads a bundle and checks its manifest: every listed file is
// in the ZIP with its size and SHA-256, nothing else is.
func bundleZip(t *testing.T, b []byte) (map[string][]byte, []string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = body
		names = append(names, f.Name)
	}
	var man struct {
		Files []struct {
			Path   string `json:"path"`
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	listed := map[string]bool{"manifest.json": true}
	for _, fi := range man.Files {
		sum := sha256.Sum256(files[fi.Path])
		if hex.EncodeToString(sum[:]) != fi.SHA256 || int64(len(files[fi.Path])) != fi.Size {
			t.Errorf("%s: %d bytes, SHA-256 %x; manifest says %d, %s", fi.Path, len(files[fi.Path]), sum, fi.Size, fi.SHA256)
		}
		listed[fi.Path] = true
	}
	for _, n := range names {
		if !listed[n] {
			t.Errorf("%s is in the ZIP but not in the manifest", n)
		}
	}
	return files, names
}

// TestIntegrationEvidenceBundle runs a collector process and asks it for
// evidence bundles with tokens: an operator uploads an evidence file and
// closes a follow-up of a dinkes review with it; the bundle of indicator
// 28 holds the review minutes and the file's original bytes, every
// manifest hash matches; a dinkes-scoped viewer gets only dinkes's
// records and 403 for dishub; a bundle of every indicator is over
// report.bundle_max_entries (413, counted); a second bundle while one is
// being streamed is 503 with Retry-After (counted).
func TestIntegrationEvidenceBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs a collector process")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	dir, dataDir := t.TempDir(), t.TempDir()
	addr := testproc.FreePort(t)
	base := "http://" + addr
	inv := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inv, []byte(bundleInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	// Entries of a whole-Pemda bundle of 2026 with two reviews and two
	// evidence files, report.chromium naming no browser (so every PDF is
	// listed as missing and the index is HTML only), spbe.yml's bundle
	// block, the year's products: monthly 2026, annual 2026, a review
	// pack for each quarter of 2026 begun by now (q: 4 from 2026-10-01
	// WIT on), an OPD sheet for dinkes and one for dishub:
	//   16: monthly html, xlsx + annual xlsx + metode                    = 4
	//   17: monthly html, xlsx + 2 opd-sheet xlsx + annual xlsx + metode = 6
	//   18: monthly html + metode                                        = 2
	//   24: annual xlsx + daftar-aset xlsx, csv + metode                 = 4
	//   28: monthly html, xlsx + q review-pack xlsx + 2 notulen
	//       + tindak-lanjut.csv + 2 bukti + metode                       = 8 + q
	//   29: q review-pack xlsx + annual xlsx + 2 notulen
	//       + tindak-lanjut.csv + 2 bukti + metode                       = 7 + q
	// 31 + 2q + index.html + manifest.json = 33 + 2q; indicator 28
	// alone: 8 + q + 2 = 10 + q. A limit of 15 takes 28 and refuses
	// every indicator.
	wit := time.FixedZone("WIT", 9*3600)
	q := 0
	for _, m := range []time.Month{1, 4, 7, 10} {
		if !time.Date(2026, m, 1, 0, 0, 0, 0, wit).After(time.Now()) {
			q++
		}
	}
	all, only28 := 33+2*q, 10+q
	cfgFile := filepath.Join(dir, "collector.yml")
	cfg := fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\nreport:\n  bundle_max_entries: 15\n  bundle_max_concurrent: 1\n  chromium: %s\n",
		addr, dataDir, inv, filepath.Join(dir, "no-chromium"))
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	admin := procAdmin(t, dataDir)
	token := func(name, role string, opds ...string) string {
		args := []string{"token", "create", "--data-dir", dataDir, "--name", name, "--role", role}
		for _, o := range opds {
			args = append(args, "--opd", o)
		}
		var o, e bytes.Buffer
		if code := Main(t.Context(), args, &o, &e); code != 0 {
			t.Fatalf("token create: %s", e.String())
		}
		return strings.TrimSpace(o.String())
	}
	oper, viewerD := token("oper", "operator"), token("vd", "viewer", "dinkes")
	proc := testproc.Start(t, bin, addr, "--config", cfgFile)

	do := func(tok, method, path, ctype string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := testproc.BearerClient(tok, 60*time.Second).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	post := func(path string, v any) map[string]any {
		t.Helper()
		js, _ := json.Marshal(v)
		res, b := do(oper, "POST", path, "application/json", js)
		if res.StatusCode != 201 {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
		}
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}
	upload := func(name string, body []byte) string {
		t.Helper()
		res, b := do(oper, "POST", "/api/v1/evidence?filename="+name, "application/octet-stream", body)
		if res.StatusCode != 201 {
			t.Fatalf("upload %s: %d %s", name, res.StatusCode, b)
		}
		var out struct{ SHA256 string }
		json.Unmarshal(b, &out)
		return out.SHA256
	}
	// dinkes's evidence: 16 MiB, incompressible, so that streaming it
	// fills the socket buffers of a client that does not read.
	dinkesPDF := append([]byte("%PDF-1.4\n"), make([]byte, 16<<20)...)
	rand.Read(dinkesPDF[9:])
	dishubTxt := []byte("tiket ISP 4711 ditutup\n")
	dinkesSHA, dishubSHA := upload("berita-acara.pdf", dinkesPDF), upload("tiket.txt", dishubTxt)
	for _, c := range []struct{ scope, held, sha string }{{"dinkes", "2026-11-02", dinkesSHA}, {"dishub", "2026-11-03", dishubSHA}} {
		rv := post("/api/v1/reviews", map[string]string{"month": "2026-10", "held_on": c.held, "scope": c.scope, "participants": "Kabid TIK", "findings": "jalur " + c.scope + " putus"})
		post("/api/v1/followups", map[string]any{"review_id": rv["id"], "opened": c.held, "item": "ganti kabel", "owner": "admin", "status": "selesai", "evidence": "sha256:" + c.sha})
	}

	// Indicator 28, whole Pemda: minutes of both reviews, both files.
	res, b := do(admin, "GET", "/api/v1/evidence?period=2026&indicator=28", "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("bundle: %d %s %.300s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="pantau-bukti-spbe-2026-indikator-28.zip"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	files, names := bundleZip(t, b)
	d28 := "indikator-28-manajemen-layanan-spbe/"
	if got := files[d28+"reviu/bukti/"+dinkesSHA[:12]+"-berita-acara.pdf"]; !bytes.Equal(got, dinkesPDF) {
		t.Errorf("dinkes's evidence: %d bytes, want the %d uploaded", len(got), len(dinkesPDF))
	}
	if got := files[d28+"reviu/bukti/"+dishubSHA[:12]+"-tiket.txt"]; !bytes.Equal(got, dishubTxt) {
		t.Errorf("dishub's evidence: %q", got)
	}
	if len(names) != only28 {
		t.Errorf("%d entries, want %d (see above):\n%s", len(names), only28, strings.Join(names, "\n"))
	}
	for _, want := range []string{d28 + "produk/monthly-2026.html", d28 + "produk/monthly-2026.xlsx", d28 + "reviu/tindak-lanjut.csv", d28 + "metode.html", "index.html"} {
		if _, ok := files[want]; !ok {
			t.Errorf("no %s in:\n%s", want, strings.Join(names, "\n"))
		}
	}
	var minutes []string
	for _, n := range names {
		if strings.Contains(n, "/reviu/notulen-") {
			minutes = append(minutes, n)
			if !bytes.Contains(files[n], []byte("Kabid TIK")) {
				t.Errorf("%s lacks the participants", n)
			}
		}
	}
	if len(minutes) != 2 {
		t.Errorf("minutes %v, want the two reviews'", minutes)
	}
	idx := string(files["index.html"])
	for _, s := range []string{"Indikator 28", "Paket Reviu Triwulan 2026-Q1", "tidak tersedia", "PDF", "apt install chromium"} {
		if !strings.Contains(strings.ToLower(idx), strings.ToLower(s)) {
			t.Errorf("index lacks %q", s)
		}
	}

	// A dinkes viewer: its own records only; dishub is refused by name.
	res, b = do(viewerD, "GET", "/api/v1/evidence?period=2026&indicator=28", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("dinkes bundle: %d %s", res.StatusCode, b)
	}
	files, names = bundleZip(t, b)
	if _, ok := files[d28+"reviu/bukti/"+dinkesSHA[:12]+"-berita-acara.pdf"]; !ok {
		t.Errorf("dinkes's evidence missing from its bundle:\n%s", strings.Join(names, "\n"))
	}
	for n, body := range files {
		if strings.Contains(n, dishubSHA[:12]) || bytes.Contains(body, []byte("jalur dishub")) || bytes.Contains(body, []byte("dishub-wan")) {
			t.Errorf("%s: dishub's record in dinkes's bundle", n)
		}
	}
	res, b = do(viewerD, "GET", "/api/v1/evidence?period=2026&indicator=28&opd=dishub", "", nil)
	if res.StatusCode != 403 || !strings.Contains(string(b), "OPD dishub is outside the scope") {
		t.Errorf("dishub for a dinkes viewer: %d %s", res.StatusCode, b)
	}
	// Bad parameters: 400 naming the problem.
	for q, want := range map[string]string{
		"period=2026&indicator=47": "indicator 47: Pantau holds no evidence for it",
		"indicator=17":             "period is required",
		"period=2026-13":           "invalid period",
		"period=2026&opd=bappeda":  "bappeda",
	} {
		res, b := do(admin, "GET", "/api/v1/evidence?"+q, "", nil)
		if res.StatusCode != 400 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %s, want 400 with %q", q, res.StatusCode, b, want)
		}
	}

	// Every indicator: 33 + 2q entries, over the limit of 15.
	res, b = do(admin, "GET", "/api/v1/evidence?period=2026", "", nil)
	if res.StatusCode != 413 || !strings.Contains(string(b), "report.bundle_max_entries") {
		t.Errorf("all indicators: %d %s, want 413 naming report.bundle_max_entries", res.StatusCode, b)
	}
	if v := metricOf(base, admin, `pantau_collector_evidence_bundles_refused_total{reason="too_many_entries"}`); v != 1 {
		t.Errorf("refused too_many_entries = %v, want 1", v)
	}

	// One bundle at a time: while the first is streamed to a client that
	// has read only its headers (16 MiB fill the socket buffers), a second
	// is refused.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/evidence?period=2026&indicator=28", nil)
	slow, err := testproc.BearerClient(admin, 60*time.Second).Do(req)
	if err != nil || slow.StatusCode != 200 {
		t.Fatalf("first bundle: %v %v", err, slow)
	}
	res, b = do(admin, "GET", "/api/v1/evidence?period=2026&indicator=17", "", nil)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") != "30" || !strings.Contains(string(b), "report.bundle_max_concurrent") {
		t.Errorf("second bundle: %d Retry-After %q %s, want 503", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	whole, err := io.ReadAll(slow.Body)
	slow.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	bundleZip(t, whole)
	if v := metricOf(base, admin, `pantau_collector_evidence_bundles_refused_total{reason="busy"}`); v != 1 {
		t.Errorf("refused busy = %v, want 1", v)
	}
	// The slot is free again once the first is written.
	testproc.WaitFor(t, 30*time.Second, "the bundle slot to be free", func() bool {
		res, _ := do(admin, "GET", "/api/v1/evidence?period=2026&indicator=17", "", nil)
		return res.StatusCode == 200
	})
	if v := metricOf(base, admin, "pantau_collector_evidence_bundles_total"); v < 4 {
		t.Errorf("bundles_total = %v, want at least 4", v)
	}

	// The CLI writes the same bundle from the data directory.
	out := filepath.Join(dir, "bukti-28.zip")
	var o, e bytes.Buffer
	if code := Main(t.Context(), []string{"evidence", "bundle", "--config", cfgFile, "--period", "2026", "--indicator", "28", "--out", out}, &o, &e); code != 0 {
		t.Fatalf("evidence bundle: exit %d: %s", code, e.String())
	}
	zb, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	files, names = bundleZip(t, zb)
	if len(names) != only28 || !bytes.Equal(files[d28+"reviu/bukti/"+dinkesSHA[:12]+"-berita-acara.pdf"], dinkesPDF) {
		t.Errorf("CLI bundle: %d entries, dinkes's evidence %d bytes:\n%s", len(names), len(files[d28+"reviu/bukti/"+dinkesSHA[:12]+"-berita-acara.pdf"]), strings.Join(names, "\n"))
	}
	e.Reset()
	if code := Main(t.Context(), []string{"evidence", "bundle", "--config", cfgFile, "--period", "2026", "--indicator", "47", "--out", out}, &o, &e); code != 2 || !strings.Contains(e.String(), "indicator 47") {
		t.Errorf("evidence bundle --indicator 47: exit %d: %s", code, e.String())
	}

	// report.bundle_max_entries reloads on SIGHUP: with 33 + 2q allowed,
	// the bundle of every indicator (above) is served.
	if err := os.WriteFile(cfgFile, []byte(strings.Replace(cfg, "bundle_max_entries: 15", fmt.Sprintf("bundle_max_entries: %d", all), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := proc.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testproc.WaitFor(t, 30*time.Second, "the reloaded bundle_max_entries", func() bool {
		return metricOf(base, admin, `pantau_collector_config_reloads_total{result="success"}`) == 1
	})
	res, b = do(admin, "GET", "/api/v1/evidence?period=2026", "", nil)
	if res.StatusCode != 200 {
		t.Fatalf("every indicator after the reload: %d %s", res.StatusCode, b)
	}
	if _, names = bundleZip(t, b); len(names) != all {
		t.Errorf("every indicator: %d entries, want %d:\n%s", len(names), all, strings.Join(names, "\n"))
	}
}
