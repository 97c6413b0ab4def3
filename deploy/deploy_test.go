// Package deploy holds what installs Pantau on a machine: the systemd units
// (systemd/), the unprivileged-ICMP sysctl drop-in (sysctl/) and the nfpm
// configs, packaged config files and maintainer scripts of the .deb and
// .rpm packages (nfpm/). Its tests build the binaries the way `make dist`
// does (static, for amd64, arm64 and armv7), check the units with
// systemd-analyze, build the packages with the pinned nfpm, read them back,
// and install, upgrade and purge the agent and collector packages with
// dpkg on this machine (as root).
package deploy

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	repoRoot string // the repository, ..
	workDir  string // shared by the tests of this package; removed at the end
	onCI     = os.Getenv("CI") != "" && os.Getenv("CI") != "false" && os.Getenv("CI") != "0"
)

func TestMain(m *testing.M) {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = root
	// The dpkg round trip runs binaries as the service users, which must be
	// able to reach them: a world-searchable directory.
	workDir, err = os.MkdirTemp("", "pantau-deploy-test-")
	if err == nil {
		err = os.Chmod(workDir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	os.Exit(code)
}

// need returns the path of a program the test cannot do without: a missing
// one fails the test on CI (where .ci/install-deps provides it) and skips
// it elsewhere.
func need(t *testing.T, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		if onCI {
			t.Fatalf("%s is needed (CI=%s): %v", prog, os.Getenv("CI"), err)
		}
		t.Skipf("%s not found: %v", prog, err)
	}
	return p
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Stdin = nil // /dev/null: a prompt fails instead of hanging
	err := cmd.Run()
	return out.String(), err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// A build target, named as `make dist` names its output.
type target struct {
	goarch, goarm string
	platform      string // dist suffix: linux-amd64, linux-arm64, linux-armv7
	nfpmArch      string // nfpm's arch: amd64, arm64, arm7
}

var (
	amd64   = target{"amd64", "", "linux-amd64", "amd64"}
	arm64   = target{"arm64", "", "linux-arm64", "arm64"}
	armv7   = target{"arm", "7", "linux-armv7", "arm7"}
	targets = []target{amd64, arm64, armv7}
	plugins = []string{"http", "dns", "tcp"}
)

type buildResult struct {
	once sync.Once
	err  error
}

var builds = map[string]*buildResult{}

func init() {
	for _, tg := range targets {
		builds[tg.platform] = &buildResult{}
	}
}

// distDir is where build puts the binaries, laid out as `make dist` does.
func distDir() string { return filepath.Join(workDir, "dist") }

// build builds pantau-agent and pantau-collector for the target, and on
// amd64 also the bundled plugins with their SHA256SUMS, into distDir(), as
// `make dist` does: CGO_ENABLED=0, stripped. Once per target per run; the
// compiler flags are those of `make cross`, so the two share the build
// cache. It returns distDir(). Under -short it skips the test: the
// release builds (three architectures) take tens of seconds.
func build(t *testing.T, tg target) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: builds the release binaries for %s; make test runs it", tg.platform)
	}
	b := builds[tg.platform]
	b.once.Do(func() { b.err = doBuild(tg) })
	if b.err != nil {
		t.Fatalf("build for %s: %v", tg.platform, b.err)
	}
	return distDir()
}

func doBuild(tg target) error {
	out := filepath.Join(workDir, "build-"+tg.platform)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pkgs := []string{"./agent/cmd/pantau-agent", "./collector/cmd/pantau-collector"}
	if tg == amd64 {
		for _, p := range plugins {
			pkgs = append(pkgs, "./plugins/"+p)
		}
	}
	args := append([]string{"build", "-ldflags=-s -w", "-o", out + "/"}, pkgs...)
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + tg.goarch, "GOARM=" + tg.goarm}
	start := time.Now()
	if o, err := runErr(repoRoot, env, "go", args...); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, o)
	}
	if testing.Verbose() {
		fmt.Printf("built for %s in %s\n", tg.platform, time.Since(start).Round(time.Millisecond))
	}
	dist := distDir()
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	for _, cmd := range []string{"pantau-agent", "pantau-collector"} {
		if err := os.Rename(filepath.Join(out, cmd), filepath.Join(dist, cmd+"-"+tg.platform)); err != nil {
			return err
		}
	}
	if tg != amd64 {
		return nil
	}
	pdir := filepath.Join(dist, "plugins-"+tg.platform)
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return err
	}
	var sums strings.Builder
	for _, p := range plugins {
		name := "pantau-plugin-" + p
		if err := os.Rename(filepath.Join(out, p), filepath.Join(pdir, name)); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(pdir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(b), name) // sha256sum's format
	}
	return os.WriteFile(filepath.Join(pdir, "SHA256SUMS"), []byte(sums.String()), 0o644)
}

// unit is a parsed systemd unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	u := unit{}
	section := ""
	for i, line := range strings.Split(readFile(t, path), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// one returns the single value of a key ("" when absent); several values
// fail the test.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) > 1 {
		t.Fatalf("[%s] %s is set %d times: %q", section, key, len(v), v)
	}
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// The units say what the brief asks, and agree with the packaged configs
// and the package contents: state directories, config paths, users.
func TestUnitsAgreeWithConfigsAndPackages(t *testing.T) {
	type pkgConfig struct {
		Contents []struct {
			Src  string `yaml:"src"`
			Dst  string `yaml:"dst"`
			Type string `yaml:"type"`
		} `yaml:"contents"`
		Scripts map[string]string `yaml:"scripts"`
	}
	for _, c := range []struct {
		name, stateKey, user string
		reload               bool
	}{
		{"pantau-agent", "agent.state_dir", "pantau-agent", true},
		{"pantau-collector", "data_dir", "pantau-collector", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := parseUnit(t, filepath.Join(repoRoot, "deploy/systemd", c.name+".service"))
			s := func(k string) string { return u.one(t, "Service", k) }
			want := map[string]string{
				"User": c.user, "Group": c.user, "StateDirectory": c.name, "ConfigurationDirectory": "pantau",
				"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
				"CapabilityBoundingSet": "", "AmbientCapabilities": "", "Restart": "on-failure",
				"MemoryDenyWriteExecute": "yes",
			}
			for k, v := range want {
				if _, ok := u["Service"][k]; !ok {
					t.Errorf("[Service] %s is not set (want %q)", k, v)
				} else if got := s(k); got != v {
					t.Errorf("[Service] %s=%s, want %q", k, got, v)
				}
			}
			for _, k := range []string{"NoExecPaths", "ExecPaths", "InaccessiblePaths", "DynamicUser", "PrivateUsers"} {
				if _, ok := u["Service"][k]; ok {
					t.Errorf("[Service] %s is set: it would break plugins, the packaged user or raw ICMP", k)
				}
			}
			if s("RestartSec") == "" || u.one(t, "Unit", "StartLimitIntervalSec") == "" || u.one(t, "Unit", "StartLimitBurst") == "" {
				t.Error("RestartSec=, StartLimitIntervalSec= and StartLimitBurst= must be set")
			}
			fams := strings.Fields(s("RestrictAddressFamilies"))
			for _, f := range []string{"AF_INET", "AF_INET6", "AF_UNIX"} {
				if !contains(fams, f) {
					t.Errorf("RestrictAddressFamilies=%s lacks %s", s("RestrictAddressFamilies"), f)
				}
			}
			start := strings.Fields(s("ExecStart"))
			if len(start) < 4 || start[0] != "/usr/bin/"+c.name || start[len(start)-2] != "--config" {
				t.Fatalf("ExecStart=%s: want /usr/bin/%s ... --config FILE", s("ExecStart"), c.name)
			}
			configPath := start[len(start)-1]
			if reload := s("ExecReload"); c.reload != (reload != "") {
				t.Errorf("ExecReload=%q (both the agent and the collector reload on SIGHUP)", reload)
			} else if c.reload && !strings.Contains(reload, "-HUP $MAINPID") {
				t.Errorf("ExecReload=%s does not send SIGHUP to $MAINPID", reload)
			}
			if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
				t.Errorf("WantedBy=%s", got)
			}

			// The packaged config's state directory is the unit's StateDirectory.
			var pc pkgConfig
			if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(repoRoot, "deploy/nfpm", c.name+".yaml"))), &pc); err != nil {
				t.Fatal(err)
			}
			dst := map[string]string{} // dst -> src
			types := map[string]string{}
			for _, e := range pc.Contents {
				dst[e.Dst] = e.Src
				types[e.Dst] = e.Type
			}
			src, ok := dst[configPath]
			if !ok || types[configPath] != "config|noreplace" {
				t.Fatalf("the package does not ship %s (ExecStart's --config) as config|noreplace: %q", configPath, types[configPath])
			}
			var cfg map[string]any
			if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(repoRoot, src))), &cfg); err != nil {
				t.Fatal(err)
			}
			got := lookup(cfg, c.stateKey)
			if want := "/var/lib/" + s("StateDirectory"); got != want {
				t.Errorf("%s: %s is %v, the unit's StateDirectory= is %s", src, c.stateKey, got, want)
			}
			if got := dst["/usr/lib/systemd/system/"+c.name+".service"]; got != "deploy/systemd/"+c.name+".service" {
				t.Errorf("unit file shipped from %q", got)
			}
			// Every script names the unit's user and service.
			for _, kind := range []string{"postinstall", "preremove", "postremove"} {
				script := pc.Scripts[kind]
				if script == "" {
					t.Errorf("no %s script", kind)
					continue
				}
				if body := readFile(t, filepath.Join(repoRoot, script)); !strings.Contains(body, c.user) {
					t.Errorf("%s does not mention %s", script, c.user)
				}
			}
			if c.name == "pantau-agent" {
				// The raw-ICMP drop-in grants exactly CAP_NET_RAW, and is
				// shipped as documentation.
				d := parseUnit(t, filepath.Join(repoRoot, "deploy/systemd/pantau-agent-raw-icmp.conf"))
				if len(d) != 1 || len(d["Service"]) != 2 || d.one(t, "Service", "AmbientCapabilities") != "CAP_NET_RAW" ||
					d.one(t, "Service", "CapabilityBoundingSet") != "CAP_NET_RAW" {
					t.Errorf("raw-ICMP drop-in: %v", d)
				}
				if dst["/usr/share/doc/pantau-agent/pantau-agent-raw-icmp.conf"] != "deploy/systemd/pantau-agent-raw-icmp.conf" {
					t.Error("the raw-ICMP drop-in is not shipped in /usr/share/doc/pantau-agent/")
				}
				// agent.icmp_mode: raw is what the drop-in is for: the
				// config knows that value.
				ex := readFile(t, filepath.Join(repoRoot, "agent/internal/config/config.go"))
				if !strings.Contains(ex, `"agent.icmp_mode", c.Agent.ICMPMode, "auto", "unprivileged", "raw"`) {
					t.Error("agent.icmp_mode no longer takes auto|unprivileged|raw: update the units, the drop-in and docs/install.md")
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// lookup follows a dotted path through decoded YAML.
func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// systemdRoot makes a file system root for `systemd-analyze --root=`: the
// host's system units (for sysinit.target, network-online.target and the
// like), the Pantau units (and the backup timer), the binaries they start and /bin/kill for
// the agent's ExecReload, on a merged /usr.
func systemdRoot(t *testing.T) string {
	t.Helper()
	dist := build(t, amd64)
	root := t.TempDir()
	for _, d := range []string{"usr/lib/systemd/system", "usr/bin", "usr/sbin", "etc/systemd/system"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"bin", "sbin", "lib"} {
		if err := os.Symlink("usr/"+l, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/system"))
	for _, name := range []string{"pantau-agent", "pantau-collector"} {
		copyFile(t, filepath.Join(repoRoot, "deploy/systemd", name+".service"), filepath.Join(root, "usr/lib/systemd/system", name+".service"), 0o644)
		copyFile(t, filepath.Join(dist, name+"-linux-amd64"), filepath.Join(root, "usr/bin", name), 0o755)
	}
	for _, name := range []string{"pantau-collector-backup.service", "pantau-collector-backup.timer"} {
		copyFile(t, filepath.Join(repoRoot, "deploy/systemd", name), filepath.Join(root, "usr/lib/systemd/system", name), 0o644)
	}
	kill, err := exec.LookPath("kill")
	if err != nil {
		t.Fatalf("kill (procps): %v", err)
	}
	copyFile(t, kill, filepath.Join(root, "usr/bin/kill"), 0o755)
	return root
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a directory of unit files, keeping symlinks as symlinks.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, dst)
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}

// securityItem is one line of `systemd-analyze security --json`.
type securityItem struct {
	Set  bool   `json:"set"`
	Name string `json:"name"`
}

func security(t *testing.T, analyze, root, unitName string) map[string]bool {
	t.Helper()
	// --threshold=20: an overall exposure above 2.0 ("OK" ends at 3.9) fails.
	out, err := exec.Command(analyze, "security", "--offline=true", "--root="+root, "--threshold=20", "--json=short", unitName).Output()
	if err != nil {
		text, _ := runErr("", nil, analyze, "security", "--offline=true", "--root="+root, unitName)
		t.Fatalf("systemd-analyze security %s: %v\n%s", unitName, err, text)
	}
	var items []securityItem
	if err := json.Unmarshal(out, &items); err != nil {
		t.Fatalf("systemd-analyze security --json: %v\n%s", err, out)
	}
	set := map[string]bool{}
	for _, it := range items {
		set[it.Name] = it.Set
	}
	return set
}

// systemd-analyze verify passes the units (and the backup timer), on a root that holds the
// binaries they start; the raw-ICMP drop-in verifies too and grants
// CAP_NET_RAW and nothing else; the exposure stays below 2.0.
func TestSystemdAnalyze(t *testing.T) {
	t.Parallel()
	analyze := need(t, "systemd-analyze")
	root := systemdRoot(t)
	units := []string{"pantau-agent.service", "pantau-collector.service", "pantau-collector-backup.service", "pantau-collector-backup.timer"}
	verify := func(t *testing.T, root string, units ...string) string {
		t.Helper()
		out, err := runErr("", nil, analyze, append([]string{"verify", "--root=" + root}, units...)...)
		if err != nil {
			return fmt.Sprintf("exit: %v\n%s", err, out)
		}
		// verify exits 0 on unknown keys and bad values: any output is a finding.
		return strings.TrimSpace(out)
	}

	t.Run("verify", func(t *testing.T) {
		if out := verify(t, root, units...); out != "" {
			t.Fatalf("systemd-analyze verify --root=%s %v:\n%s", root, units, out)
		}
	})

	t.Run("verify finds faults", func(t *testing.T) {
		// The check is not vacuous: a unit whose binary is missing, or with
		// a misspelt key, is reported.
		bad := filepath.Join(root, "usr/lib/systemd/system/pantau-broken.service")
		body := strings.Replace(readFile(t, filepath.Join(root, "usr/lib/systemd/system/pantau-agent.service")),
			"/usr/bin/pantau-agent run", "/usr/bin/pantau-missing run", 1)
		body = strings.Replace(body, "ProtectHome=yes", "ProtectHome=yes\nProtectHomme=yes", 1)
		if err := os.WriteFile(bad, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(bad)
		out := verify(t, root, "pantau-broken.service")
		for _, want := range []string{"pantau-missing", "ProtectHomme"} {
			if !strings.Contains(out, want) {
				t.Errorf("verify of a broken unit does not mention %s:\n%s", want, out)
			}
		}
	})

	capItem := func(name string) bool {
		return strings.HasPrefix(name, "CapabilityBoundingSet=") || name == "AmbientCapabilities="
	}
	t.Run("security", func(t *testing.T) {
		for _, u := range units {
			if strings.HasSuffix(u, ".timer") {
				continue
			}
			set := security(t, analyze, root, u)
			for name, ok := range set {
				if capItem(name) && !ok {
					t.Errorf("%s: %s is not restricted: the unit must hold no capability", u, name)
				}
			}
			for _, name := range []string{"NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "PrivateTmp=",
				"PrivateDevices=", "ProtectKernelTunables=", "SystemCallFilter=~@privileged", "MemoryDenyWriteExecute="} {
				if ok, found := set[name]; !found || !ok {
					t.Errorf("%s: %s not in force (found=%v)", u, name, found)
				}
			}
		}
	})

	t.Run("raw-ICMP drop-in", func(t *testing.T) {
		d := filepath.Join(root, "etc/systemd/system/pantau-agent.service.d")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(repoRoot, "deploy/systemd/pantau-agent-raw-icmp.conf"), filepath.Join(d, "raw-icmp.conf"), 0o644)
		defer os.RemoveAll(d)
		if out := verify(t, root, "pantau-agent.service"); out != "" {
			t.Fatalf("verify with the drop-in:\n%s", out)
		}
		var granted []string
		for name, ok := range security(t, analyze, root, "pantau-agent.service") {
			if capItem(name) && !ok {
				granted = append(granted, name)
			}
		}
		sort.Strings(granted)
		want := []string{"AmbientCapabilities=", "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)"}
		if strings.Join(granted, " ") != strings.Join(want, " ") {
			t.Errorf("with the drop-in the agent gets %v, want only CAP_NET_RAW: %v", granted, want)
		}
	})
}

// Static, stripped, CGO_ENABLED=0 builds for every packaged architecture,
// checked in their ELF headers and build info.
func TestCrossBuildsAreStatic(t *testing.T) {
	t.Parallel()
	const (
		efARMEABIMask  = 0xff000000
		efARMEABIVer5  = 0x05000000
		efARMSoftFloat = 0x00000200
		efARMHardFloat = 0x00000400
	)
	for _, tg := range targets {
		t.Run(tg.platform, func(t *testing.T) {
			t.Parallel()
			dist := build(t, tg)
			wantClass, wantMachine := elf.ELFCLASS64, map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[tg.goarch]
			if tg.goarch == "arm" {
				wantClass, wantMachine = elf.ELFCLASS32, elf.EM_ARM
			}
			for _, cmd := range []string{"pantau-agent", "pantau-collector"} {
				path := filepath.Join(dist, cmd+"-"+tg.platform)
				f, err := elf.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if f.Class != wantClass || f.Machine != wantMachine || f.Data != elf.ELFDATA2LSB || f.Type != elf.ET_EXEC {
					t.Errorf("%s: %v %v %v %v, want %v %v little-endian ET_EXEC", cmd, f.Class, f.Machine, f.Data, f.Type, wantClass, wantMachine)
				}
				for _, p := range f.Progs {
					if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
						t.Errorf("%s: has a %v program header: not a static binary", cmd, p.Type)
					}
				}
				if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
					t.Errorf("%s: DT_NEEDED %v (%v)", cmd, libs, err)
				}
				if tg.goarch == "arm" {
					// debug/elf has no e_flags: it is at offset 36 of an
					// ELF32 header. Go 1.26 writes 0x05000002: EABI
					// version 5 (and the old EF_ARM_HASENTRY bit), and
					// neither float-ABI flag, since a static Go binary
					// passes no floats to C: it runs on armhf and armel.
					hdr := make([]byte, 52)
					r, err := os.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					_, err = io.ReadFull(r, hdr)
					r.Close()
					if err != nil {
						t.Fatal(err)
					}
					flags := binary.LittleEndian.Uint32(hdr[36:])
					if flags&efARMEABIMask != efARMEABIVer5 {
						t.Errorf("%s: e_flags %#x: not EABI version 5", cmd, flags)
					}
					if flags&(efARMSoftFloat|efARMHardFloat) != 0 {
						t.Errorf("%s: e_flags %#x: a float-ABI flag Go does not set", cmd, flags)
					}
				}
				bi, err := buildinfo.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				settings := map[string]string{}
				for _, s := range bi.Settings {
					settings[s.Key] = s.Value
				}
				want := map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": tg.goarch}
				if tg.goarm != "" {
					want["GOARM"] = tg.goarm
				}
				for k, v := range want {
					if settings[k] != v {
						t.Errorf("%s: build setting %s=%q, want %q", cmd, k, settings[k], v)
					}
				}
				if !strings.HasSuffix(bi.Path, "/cmd/"+cmd) {
					t.Errorf("%s: main package %s", cmd, bi.Path)
				}
			}
		})
	}
}

// The packaged configs pass check-config: agent.yml once a token file
// exists (and with every commented example switched on, plugins started),
// collector.yml as it is; the shipped inventory example is what
// `pantau-collector inventory example` prints.
func TestPackagedConfigsCheck(t *testing.T) {
	t.Parallel()
	dist := build(t, amd64)
	agent := filepath.Join(dist, "pantau-agent-linux-amd64")
	collector := filepath.Join(dist, "pantau-collector-linux-amd64")
	dir := t.TempDir()
	token := filepath.Join(dir, "agent.token")
	if err := os.WriteFile(token, []byte("pt_0123456789abcdef\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	src := readFile(t, filepath.Join(repoRoot, "deploy/nfpm/etc/pantau/agent.yml"))
	if !strings.Contains(src, "token_file: /etc/pantau/agent.token") {
		t.Fatal("agent.yml does not read the token from /etc/pantau/agent.token")
	}
	cfg := strings.ReplaceAll(src, "/etc/pantau/agent.token", token)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("agent.yml", cfg)
	out := run(t, dir, nil, agent, "check-config", "--config", p, "--skip-plugins")
	if !strings.Contains(out, ": ok (0 ICMP targets, 0 SNMP devices, 0 plugins with 0 targets, 1 collectors") {
		t.Errorf("check-config: %s", out)
	}

	// Every commented example, switched on: the lines after "icmp:" whose
	// comment starts at the list's indentation.
	community := write("snmp-community", "public\n")
	sums := parseSums(t, filepath.Join(dist, "plugins-linux-amd64/SHA256SUMS"))
	http := filepath.Join(dist, "plugins-linux-amd64/pantau-plugin-http")
	lines := strings.Split(cfg, "\n")
	on := false
	for i, l := range lines {
		if strings.HasPrefix(l, "icmp:") {
			on = true
		}
		if on && strings.HasPrefix(l, "  # ") {
			lines[i] = "  " + l[4:]
		}
	}
	all := strings.Join(lines, "\n")
	all = strings.ReplaceAll(all, "/etc/pantau/snmp-community", community)
	all = strings.ReplaceAll(all, "/usr/lib/pantau/plugins/pantau-plugin-http", http)
	all = strings.ReplaceAll(all, `"<the pantau-plugin-http line of SHA256SUMS>"`, sums["pantau-plugin-http"])
	p = write("agent-all.yml", all)
	out = run(t, dir, nil, agent, "check-config", "--config", p)
	if !strings.Contains(out, ": ok (2 ICMP targets, 1 SNMP devices, 1 plugins with 1 targets") {
		t.Errorf("check-config with the examples on: %s\n%s", out, all)
	}

	out = run(t, dir, nil, collector, "check-config", "--config", filepath.Join(repoRoot, "deploy/nfpm/etc/pantau/collector.yml"))
	if !strings.Contains(out, ": OK") {
		t.Errorf("collector check-config: %s", out)
	}
	example, err := exec.Command(collector, "inventory", "example").Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(example) != readFile(t, filepath.Join(repoRoot, "collector/internal/inventory/example.yml")) {
		t.Error("collector/internal/inventory/example.yml (shipped as inventory.example.yml) differs from `pantau-collector inventory example`")
	}
}

func parseSums(t *testing.T, path string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("%s: %q", path, l)
		}
		sums[f[1]] = f[0]
	}
	return sums
}

// The maintainer scripts are POSIX sh (dash on Debian, bash as sh on RHEL).
func TestScriptsParse(t *testing.T) {
	t.Parallel()
	scripts, err := filepath.Glob(filepath.Join(repoRoot, "deploy/nfpm/scripts/*.sh"))
	if err != nil || len(scripts) != 6 {
		t.Fatalf("scripts: %v %v", scripts, err)
	}
	scripts = append(scripts, filepath.Join(repoRoot, "deploy/nfpm/version.sh"))
	for _, sh := range []string{"dash", "bash"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		for _, s := range scripts {
			if out, err := runErr("", nil, sh, "-n", s); err != nil {
				t.Errorf("%s -n %s: %v\n%s", sh, s, err, out)
			}
		}
	}
	for _, s := range scripts {
		if st, err := os.Stat(s); err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable (%v)", s, err)
		}
		if !strings.HasPrefix(readFile(t, s), "#!/bin/sh\n") {
			t.Errorf("%s does not start with #!/bin/sh", s)
		}
	}
}

// deploy/nfpm/version.sh prints a version dpkg and rpm both take, and the
// Makefile pins the nfpm these tests use.
func TestVersionAndPin(t *testing.T) {
	t.Parallel()
	need(t, "git")
	v := strings.TrimSpace(run(t, repoRoot, nil, filepath.Join(repoRoot, "deploy/nfpm/version.sh")))
	if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+([~+][0-9A-Za-z.]+)*$`).MatchString(v) {
		t.Errorf("version.sh printed %q: not a Debian and RPM version", v)
	}
	if !strings.Contains(readFile(t, filepath.Join(repoRoot, "Makefile")), "NFPM := "+nfpmTool+"\n") {
		t.Errorf("the Makefile does not pin %s", nfpmTool)
	}
}
