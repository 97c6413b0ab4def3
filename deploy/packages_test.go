package deploy

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// nfpmTool is nfpm, pinned, run as a tool (the Makefile's NFPM).
const nfpmTool = "github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"

// Package versions of the test builds; the second is the upgrade.
const (
	testVersion1 = "1.0.0~test1"
	testVersion2 = "1.0.0~test2"
)

type pkgSpec struct {
	name     string // pantau-agent, pantau-collector
	packager string // deb, rpm
	tg       target
	version  string
}

func (s pkgSpec) key() string {
	return fmt.Sprintf("%s_%s_%s_%s", s.name, s.packager, s.tg.nfpmArch, s.version)
}

var (
	agentDeb      = pkgSpec{"pantau-agent", "deb", amd64, testVersion1}
	agentDeb2     = pkgSpec{"pantau-agent", "deb", amd64, testVersion2}
	agentRPM      = pkgSpec{"pantau-agent", "rpm", amd64, testVersion1}
	collectorDeb  = pkgSpec{"pantau-collector", "deb", amd64, testVersion1}
	collectorRPM  = pkgSpec{"pantau-collector", "rpm", amd64, testVersion1}
	collectorDeb7 = pkgSpec{"pantau-collector", "deb", armv7, testVersion1}
	collectorRPM7 = pkgSpec{"pantau-collector", "rpm", armv7, testVersion1}
	allPackages   = []pkgSpec{agentDeb, agentDeb2, agentRPM, collectorDeb, collectorRPM, collectorDeb7, collectorRPM7}

	pkgOnce  sync.Once
	pkgErr   error
	pkgFiles = map[string]string{} // key -> package file
)

// packages builds every package of allPackages with nfpm, from the test's
// own builds into the work directory (never the repository's dist/), the
// way `make package` does. Once per run.
func packages(t *testing.T) map[string]string {
	t.Helper()
	build(t, amd64)
	build(t, armv7)
	pkgOnce.Do(func() { pkgErr = doPackages() })
	if pkgErr != nil {
		t.Fatal(pkgErr)
	}
	return pkgFiles
}

func doPackages() error {
	// Compile (or fetch from the build cache) nfpm once, not in each of the
	// concurrent runs below.
	env := []string{"CGO_ENABLED=0"}
	if out, err := runErr(repoRoot, env, "go", "run", nfpmTool, "--version"); err != nil {
		return fmt.Errorf("go run %s: %v\n%s", nfpmTool, err, out)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(allPackages))
	files := make([]string, len(allPackages))
	for i, s := range allPackages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(workDir, "pkg-"+s.key())
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs[i] = err
				return
			}
			env := append(env, "PANTAU_VERSION="+s.version, "PANTAU_ARCH="+s.tg.nfpmArch, "PANTAU_DIST="+distDir(),
				"PANTAU_PLATFORM="+s.tg.platform, "SOURCE_DATE_EPOCH=1764547200")
			args := []string{"run", nfpmTool, "package", "--config", "deploy/nfpm/" + s.name + ".yaml", "--packager", s.packager, "--target", dir + "/"}
			if out, err := runErr(repoRoot, env, "go", args...); err != nil {
				errs[i] = fmt.Errorf("%s: go %s: %v\n%s", s.key(), strings.Join(args, " "), err, out)
				return
			}
			m, _ := filepath.Glob(filepath.Join(dir, "*."+s.packager))
			if len(m) != 1 {
				errs[i] = fmt.Errorf("%s: nfpm made %v", s.key(), m)
				return
			}
			files[i] = m[0]
		}()
	}
	wg.Wait()
	for i, s := range allPackages {
		if errs[i] != nil {
			return errs[i]
		}
		pkgFiles[s.key()] = files[i]
	}
	if testing.Verbose() {
		fmt.Printf("built %d packages in %s\n", len(allPackages), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// wantFile is a regular file a package must hold.
type wantFile struct {
	mode   os.FileMode
	source string // file whose contents it must have
}

// packageContents is what each package holds, from the test's builds.
func packageContents(name, platform string) map[string]wantFile {
	dist := distDir()
	r := func(p string) string { return filepath.Join(repoRoot, p) }
	switch name {
	case "pantau-agent":
		m := map[string]wantFile{
			"/usr/bin/pantau-agent":                                  {0o755, filepath.Join(dist, "pantau-agent-"+platform)},
			"/usr/lib/pantau/plugins/SHA256SUMS":                     {0o644, filepath.Join(dist, "plugins-"+platform, "SHA256SUMS")},
			"/usr/lib/systemd/system/pantau-agent.service":           {0o644, r("deploy/systemd/pantau-agent.service")},
			"/usr/share/doc/pantau-agent/pantau-agent-raw-icmp.conf": {0o644, r("deploy/systemd/pantau-agent-raw-icmp.conf")},
			"/usr/share/doc/pantau-agent/copyright":                  {0o644, r("LICENSE")},
			"/usr/share/pantau-agent/60-pantau-agent.conf":           {0o644, r("deploy/sysctl/60-pantau-agent.conf")},
			"/etc/pantau/agent.yml":                                  {0o640, r("deploy/nfpm/etc/pantau/agent.yml")},
		}
		for _, p := range plugins {
			m["/usr/lib/pantau/plugins/pantau-plugin-"+p] = wantFile{0o755, filepath.Join(dist, "plugins-"+platform, "pantau-plugin-"+p)}
		}
		return m
	case "pantau-collector":
		m := map[string]wantFile{
			"/usr/bin/pantau-collector":                               {0o755, filepath.Join(dist, "pantau-collector-"+platform)},
			"/usr/lib/systemd/system/pantau-collector.service":        {0o644, r("deploy/systemd/pantau-collector.service")},
			"/usr/lib/systemd/system/pantau-collector-backup.service": {0o644, r("deploy/systemd/pantau-collector-backup.service")},
			"/usr/lib/systemd/system/pantau-collector-backup.timer":   {0o644, r("deploy/systemd/pantau-collector-backup.timer")},
			"/usr/share/doc/pantau-collector/inventory.example.yml":   {0o644, r("collector/internal/inventory/example.yml")},
			"/usr/share/doc/pantau-collector/copyright":               {0o644, r("LICENSE")},
			"/etc/pantau/collector.yml":                               {0o640, r("deploy/nfpm/etc/pantau/collector.yml")},
			// Grafana: the provisioning files and every dashboard.
			grafanaShare + "/provisioning/datasources/pantau.yaml": {0o644, r("deploy/grafana/provisioning/datasources/pantau.yaml")},
			grafanaShare + "/provisioning/dashboards/pantau.yaml":  {0o644, r("deploy/grafana/provisioning/dashboards/pantau.yaml")},
			grafanaShare + "/README.md":                            {0o644, r("deploy/grafana/README.md")},
		}
		dashboards, _ := filepath.Glob(r("dashboards/*.json"))
		if len(dashboards) == 0 {
			panic("no dashboards/*.json")
		}
		for _, d := range dashboards {
			m[grafanaShare+"/dashboards/"+filepath.Base(d)] = wantFile{0o644, d}
		}
		return m
	}
	panic(name)
}

// Package metadata of both packages: the license (its text, LICENSE, is
// /usr/share/doc/<package>/copyright), maintainer, vendor and homepage.
const (
	wantLicense    = "Apache-2.0"
	wantMaintainer = "Pantau maintainers <maintainers@pantau-noc.github.io>"
	wantVendor     = "Pantau"
	wantHomepage   = "https://github.com/pantau-noc/pantau"
)

// grafanaShare is where the collector package installs the dashboards and
// the Grafana provisioning files (deploy/grafana/README.md).
const grafanaShare = "/usr/share/pantau/grafana"

var configFiles = map[string]string{"pantau-agent": "/etc/pantau/agent.yml", "pantau-collector": "/etc/pantau/collector.yml"}

func scriptPath(name, kind string) string {
	return filepath.Join(repoRoot, "deploy/nfpm/scripts", strings.TrimPrefix(name, "pantau-")+"-"+kind+".sh")
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// checkContents compares files (path -> mode, sha256) with want.
func checkContents(t *testing.T, want map[string]wantFile, modes map[string]os.FileMode, sums map[string]string) {
	t.Helper()
	var extra []string
	for p := range modes {
		if _, ok := want[p]; !ok {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("unexpected files: %v", extra)
	}
	for p, w := range want {
		mode, ok := modes[p]
		if !ok {
			t.Errorf("%s is missing", p)
			continue
		}
		if mode != w.mode {
			t.Errorf("%s: mode %#o, want %#o", p, mode, w.mode)
		}
		if sums[p] != sha256File(t, w.source) {
			t.Errorf("%s: not the contents of %s", p, w.source)
		}
	}
}

// readTar reads a tar stream: regular files' modes and contents by path.
func readTar(t *testing.T, r io.Reader) (map[string]os.FileMode, map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	modes, data, headers := map[string]os.FileMode{}, map[string][]byte{}, map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return modes, data, headers
		}
		if err != nil {
			t.Fatal(err)
		}
		p := "/" + strings.TrimPrefix(strings.TrimPrefix(h.Name, "."), "/")
		headers[p] = h
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		modes[p] = os.FileMode(h.Mode) & os.ModePerm
		data[p] = b
	}
}

func dpkgDeb(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(need(t, "dpkg-deb"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-deb %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// checkDeb reads a .deb with dpkg-deb: control fields, conffiles,
// maintainer scripts, and every file with its mode and contents.
func checkDeb(t *testing.T, file string, s pkgSpec, wantArch string) {
	t.Helper()
	if base := filepath.Base(file); base != fmt.Sprintf("%s_%s-1_%s.deb", s.name, s.version, wantArch) {
		t.Errorf("file name %s", base)
	}
	fields := strings.Split(strings.TrimSpace(string(dpkgDeb(t, "-f", file, "Package", "Version", "Architecture", "Maintainer", "Homepage", "Section"))), "\n")
	want := []string{"Package: " + s.name, "Version: " + s.version + "-1", "Architecture: " + wantArch,
		"Maintainer: " + wantMaintainer, "Homepage: " + wantHomepage}
	for i, w := range want {
		if i >= len(fields) || fields[i] != w {
			t.Errorf("control fields %q, want %q first", fields, want)
			break
		}
	}
	_, ctrl, hdrs := readTar(t, bytes.NewReader(dpkgDeb(t, "--ctrl-tarfile", file)))
	if got := string(ctrl["/conffiles"]); got != configFiles[s.name]+"\n" {
		t.Errorf("conffiles %q, want %s only", got, configFiles[s.name])
	}
	if _, ok := ctrl["/preinst"]; ok {
		t.Error("a preinst script, unexpected")
	}
	for deb, kind := range map[string]string{"postinst": "postinstall", "prerm": "preremove", "postrm": "postremove"} {
		body, ok := ctrl["/"+deb]
		if !ok {
			t.Errorf("no %s", deb)
			continue
		}
		if string(body) != readFile(t, scriptPath(s.name, kind)) {
			t.Errorf("%s is not %s", deb, scriptPath(s.name, kind))
		}
		if m := hdrs["/"+deb].Mode & 0o777; m != 0o755 {
			t.Errorf("%s: mode %#o", deb, m)
		}
	}
	modes, data, _ := readTar(t, bytes.NewReader(dpkgDeb(t, "--fsys-tarfile", file)))
	sums := map[string]string{}
	for p, b := range data {
		sums[p] = sha(b)
	}
	checkContents(t, packageContents(s.name, s.tg.platform), modes, sums)
}

// checkRPM reads an .rpm with readRPM: name, version, arch, file list with
// config, noreplace and ghost flags, modes, owners, scripts and payload.
func checkRPM(t *testing.T, file string, s pkgSpec, wantArch string) *rpmPackage {
	t.Helper()
	if base := filepath.Base(file); base != fmt.Sprintf("%s-%s-1.%s.rpm", s.name, s.version, wantArch) {
		t.Errorf("file name %s", base)
	}
	p, err := readRPM(file)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Header
	if got := []string{h.string(rpmTagName), h.string(rpmTagVersion), h.string(rpmTagRelease), h.string(rpmTagArch)}; strings.Join(got, " ") != strings.Join([]string{s.name, s.version, "1", wantArch}, " ") {
		t.Errorf("name version release arch: %q", got)
	}
	for tag, want := range map[uint32]string{rpmTagLicense: wantLicense, rpmTagPackager: wantMaintainer, rpmTagVendor: wantVendor, rpmTagURL: wantHomepage} {
		if got := h.string(tag); got != want {
			t.Errorf("rpm tag %d is %q, want %q", tag, got, want)
		}
	}
	if h.string(rpmTagPreIn) != "" {
		t.Error("a pre-install script, unexpected")
	}
	for tag, kind := range map[uint32]string{rpmTagPostIn: "postinstall", rpmTagPreUn: "preremove", rpmTagPostUn: "postremove"} {
		got, want := strings.TrimSpace(h.string(tag)), strings.TrimSpace(readFile(t, scriptPath(s.name, kind)))
		if got != want {
			t.Errorf("rpm %s script is not %s", kind, scriptPath(s.name, kind))
		}
	}
	modes, sums := map[string]os.FileMode{}, map[string]string{}
	var dirs []string
	for path, f := range p.Files {
		switch {
		case f.Mode&0o170000 == 0o040000:
			dirs = append(dirs, path)
			if f.Mode&0o7777 != 0o755 || f.User != "root" || f.Group != "root" {
				t.Errorf("directory %s: %#o %s:%s", path, f.Mode&0o7777, f.User, f.Group)
			}
			continue
		case f.Flags&rpmFileGhost != 0:
			if s.name != "pantau-agent" || path != "/etc/sysctl.d/60-pantau-agent.conf" {
				t.Errorf("unexpected ghost %s", path)
			}
			continue
		case f.Mode&0o170000 != 0o100000:
			t.Errorf("%s: mode %#o is not a regular file", path, f.Mode)
		}
		if f.User != "root" || f.Group != "root" {
			t.Errorf("%s: owned by %s:%s", path, f.User, f.Group)
		}
		wantFlags := uint32(0)
		if path == configFiles[s.name] {
			wantFlags = rpmFileConfig | rpmFileNoReplace
		}
		if f.Flags&^rpmFileDoc != wantFlags {
			t.Errorf("%s: flags %#x, want %#x", path, f.Flags, wantFlags)
		}
		modes[path] = os.FileMode(f.Mode & 0o777)
		b, ok := p.Payload[path]
		if !ok {
			t.Errorf("%s: not in the payload", path)
		}
		sums[path] = sha(b)
	}
	if s.name == "pantau-agent" {
		if f, ok := p.Files["/etc/sysctl.d/60-pantau-agent.conf"]; !ok || f.Flags&rpmFileGhost == 0 {
			t.Error("the generated /etc/sysctl.d/60-pantau-agent.conf is not owned as a ghost")
		}
	}
	checkContents(t, packageContents(s.name, s.tg.platform), modes, sums)
	// The package's own directories, so that rpm -e removes them; never
	// shared ones such as /usr/bin.
	sort.Strings(dirs)
	if want := ownDirs[s.name]; strings.Join(dirs, " ") != strings.Join(want, " ") {
		t.Errorf("owned directories %v, want %v", dirs, want)
	}
	return p
}

var ownDirs = map[string][]string{
	"pantau-agent": {"/etc/pantau", "/usr/lib/pantau", "/usr/lib/pantau/plugins", "/usr/share/doc/pantau-agent", "/usr/share/pantau-agent"},
	"pantau-collector": {"/etc/pantau", "/usr/share/doc/pantau-collector", "/usr/share/pantau", grafanaShare,
		grafanaShare + "/dashboards", grafanaShare + "/provisioning", grafanaShare + "/provisioning/dashboards", grafanaShare + "/provisioning/datasources"},
}

// The .deb and .rpm files hold what they should, with the configs as
// noreplace conffiles, the maintainer scripts, and nfpm's architecture
// names: arm7 is armhf for dpkg and armv7hl for rpm.
func TestPackages(t *testing.T) {
	t.Parallel()
	files := packages(t)
	t.Run("pantau-agent deb", func(t *testing.T) { checkDeb(t, files[agentDeb.key()], agentDeb, "amd64") })
	t.Run("pantau-agent rpm", func(t *testing.T) { checkRPM(t, files[agentRPM.key()], agentRPM, "x86_64") })
	t.Run("pantau-collector deb", func(t *testing.T) { checkDeb(t, files[collectorDeb.key()], collectorDeb, "amd64") })
	t.Run("pantau-collector rpm", func(t *testing.T) { checkRPM(t, files[collectorRPM.key()], collectorRPM, "x86_64") })
	t.Run("armv7", func(t *testing.T) {
		checkDeb(t, files[collectorDeb7.key()], collectorDeb7, "armhf")
		p := checkRPM(t, files[collectorRPM7.key()], collectorRPM7, "armv7hl")
		f, err := elf.NewFile(bytes.NewReader(p.Payload["/usr/bin/pantau-collector"]))
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != elf.EM_ARM {
			t.Errorf("the armv7hl package holds a %v binary", f.Machine)
		}
	})
	t.Run("rpm tool", func(t *testing.T) {
		// Where rpm is installed, it must read the packages the same way.
		rpm, err := exec.LookPath("rpm")
		if err != nil {
			t.Log("rpm is not installed: the packages were read by readRPM only")
			return
		}
		for _, s := range []pkgSpec{agentRPM, collectorRPM} {
			out := run(t, "", nil, rpm, "-qp", "--nosignature", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags}\n]`, files[s.key()])
			p, err := readRPM(files[s.key()])
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for path, f := range p.Files {
				if f.Mode&0o170000 == 0o040000 {
					continue
				}
				want = append(want, path)
			}
			sort.Strings(want)
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				path, flags, _ := strings.Cut(l, " ")
				if p.Files[path].Mode&0o170000 == 0o040000 {
					continue
				}
				got = append(got, path)
				if path == configFiles[s.name] && (!strings.Contains(flags, "c") || !strings.Contains(flags, "n")) {
					t.Errorf("rpm: %s flags %q", path, flags)
				}
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("rpm -qp lists %v, readRPM %v", got, want)
			}
		}
	})
}
