package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const pingRangeFile = "/proc/sys/net/ipv4/ping_group_range"

// pingRange is net.ipv4.ping_group_range: empty when first > last.
type pingRange struct{ first, last int64 }

func (r pingRange) String() string        { return fmt.Sprintf("%d %d", r.first, r.last) }
func (r pingRange) covers(gid int64) bool { return r.first <= gid && gid <= r.last }

func readPingRange(t *testing.T) pingRange {
	t.Helper()
	r, err := parsePingRange(readFile(t, pingRangeFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func parsePingRange(s string) (pingRange, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return pingRange{}, fmt.Errorf("ping_group_range %q", s)
	}
	a, err1 := strconv.ParseInt(f[0], 10, 64)
	b, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return pingRange{}, fmt.Errorf("ping_group_range %q", s)
	}
	return pingRange{a, b}, nil
}

func writePingRange(r pingRange) error {
	return os.WriteFile(pingRangeFile, []byte(r.String()), 0o644)
}

// account is a passwd or group entry.
type account struct {
	exists  bool
	id, gid int64
	home    string
	shell   string
}

func getent(t *testing.T, db, name string) account {
	t.Helper()
	out, err := exec.Command("getent", db, name).Output()
	if err != nil {
		return account{}
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	a := account{exists: true}
	a.id, _ = strconv.ParseInt(f[2], 10, 64)
	if db == "passwd" && len(f) == 7 {
		a.gid, _ = strconv.ParseInt(f[3], 10, 64)
		a.home, a.shell = f[5], f[6]
	}
	return a
}

func dpkgStatus(name string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", name).Output()
	if err != nil {
		return "not-installed"
	}
	return strings.TrimSpace(string(out))
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// ownedBy checks a path's owner, group and permission bits.
func ownedBy(t *testing.T, p string, uid, gid int64, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Error(err)
		return
	}
	sys := st.Sys().(*syscall.Stat_t)
	if int64(sys.Uid) != uid || int64(sys.Gid) != gid || st.Mode().Perm() != mode {
		t.Errorf("%s: %d:%d %#o, want %d:%d %#o", p, sys.Uid, sys.Gid, st.Mode().Perm(), uid, gid, mode)
	}
}

// docExcluded says whether dpkg is set up not to install /usr/share/doc
// (path-exclude in slim container images).
func docExcluded() bool {
	files, _ := filepath.Glob("/etc/dpkg/dpkg.cfg.d/*")
	for _, f := range append(files, "/etc/dpkg/dpkg.cfg") {
		b, _ := os.ReadFile(f)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "path-exclude") && strings.Contains(l, "/usr/share/doc") {
				return true
			}
		}
	}
	return false
}

// checkInstalled checks that dpkg put every file of the package in place
// with its contents and mode (configs: root:group 0640).
func checkInstalled(t *testing.T, name string, gid int64) {
	t.Helper()
	listed := run(t, "", nil, "dpkg", "-L", name)
	for p, w := range packageContents(name, "linux-amd64") {
		if !strings.Contains(listed, p+"\n") {
			t.Errorf("dpkg -L %s does not list %s", name, p)
		}
		if !exists(p) && strings.HasPrefix(p, "/usr/share/doc/") && docExcluded() {
			continue
		}
		if sha256File(t, p) != sha256File(t, w.source) {
			t.Errorf("%s: not the contents of %s", p, w.source)
		}
		if p == configFiles[name] {
			ownedBy(t, p, 0, gid, 0o640)
		} else {
			ownedBy(t, p, 0, 0, w.mode)
		}
	}
}

func dpkgInstall(t *testing.T, deb string) string {
	t.Helper()
	// No --force-conf*: stdin is /dev/null, so a conffile prompt fails.
	return run(t, "", []string{"DEBIAN_FRONTEND=noninteractive"}, "dpkg", "-i", deb)
}

// mustBeAbsent refuses to run on a machine where the package, its user or
// its files already exist: the test would replace or delete them.
func mustBeAbsent(t *testing.T, name string, paths ...string) {
	t.Helper()
	if st := dpkgStatus(name); st != "not-installed" {
		t.Fatalf("%s is %s on this machine: the test installs and purges it; purge it first or run the test elsewhere", name, st)
	}
	if getent(t, "passwd", name).exists || getent(t, "group", name).exists {
		t.Fatalf("user or group %s exists on this machine: the test creates and deletes it", name)
	}
	for _, p := range paths {
		if exists(p) {
			t.Fatalf("%s exists on this machine: the test would replace or delete it", p)
		}
	}
}

// leftoverRoots are where a package or its scripts could leave something.
var leftoverRoots = []string{"/etc", "/usr", "/var", "/opt", "/run"}

// pantauPaths lists the paths under leftoverRoots whose name mentions
// pantau, and those owned by uid or gid (-1: none), to compare before the
// install with after the purge.
func pantauPaths(t *testing.T, uid, gid int64) (named, owned map[string]bool) {
	t.Helper()
	named, owned = map[string]bool{}, map[string]bool{}
	for _, root := range leftoverRoots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if p == workDir || p == "/var/tmp" || p == "/proc" {
				return filepath.SkipDir
			}
			if strings.Contains(filepath.Base(p), "pantau") {
				named[p] = true
			}
			if uid >= 0 || gid >= 0 {
				if fi, err := d.Info(); err == nil {
					if st, ok := fi.Sys().(*syscall.Stat_t); ok && (int64(st.Uid) == uid || int64(st.Gid) == gid) {
						owned[p] = true
					}
				}
			}
			return nil
		})
	}
	return named, owned
}

// checkNothingLeft fails for every path that mentions pantau and was not
// there before the install (but those in kept), for every path still
// owned by the package's deleted user or group, and for the account.
func checkNothingLeft(t *testing.T, name string, before map[string]bool, uid, gid int64, kept ...string) {
	t.Helper()
	named, owned := pantauPaths(t, uid, gid)
	for p := range named {
		if !before[p] && !contains(kept, p) {
			t.Errorf("the purge left %s", p)
		}
	}
	for p := range owned {
		t.Errorf("the purge left %s owned by the deleted user %d or group %d", p, uid, gid)
	}
	if getent(t, "passwd", name).exists || getent(t, "group", name).exists {
		t.Errorf("the purge left the user or group %s", name)
	}
}

// removeAccount deletes a user and its group if they are still there.
func removeAccount(name string) {
	if exec.Command("getent", "passwd", name).Run() == nil {
		exec.Command("userdel", name).Run()
	}
	if exec.Command("getent", "group", name).Run() == nil {
		exec.Command("groupdel", name).Run()
	}
}

// Install, upgrade and purge the packages with dpkg on this machine, as
// root. The package names, users, paths and the ping range are touched by
// this test only (the range is put back); no port is opened.
func TestDpkgInstallUpgradePurge(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		if onCI {
			t.Fatal("the dpkg round trip runs as root on CI")
		}
		t.Skip("needs root: dpkg -i")
	}
	for _, p := range []string{"dpkg", "dpkg-query", "runuser", "getent", "userdel", "groupdel"} {
		need(t, p)
	}
	files := packages(t)
	// Sequential: dpkg takes a lock.
	t.Run("pantau-agent", func(t *testing.T) { agentRoundTrip(t, files) })
	t.Run("pantau-collector", func(t *testing.T) { collectorRoundTrip(t, files) })
}

func agentRoundTrip(t *testing.T, files map[string]string) {
	const (
		name     = "pantau-agent"
		config   = "/etc/pantau/agent.yml"
		token    = "/etc/pantau/agent.token"
		stateDir = "/var/lib/pantau-agent"
		sysctl   = "/etc/sysctl.d/60-pantau-agent.conf"
		// the community file agent.yml's example names, and a file of the
		// operator's the agent's group may read
		community = "/etc/pantau/snmp-community"
		extra     = "/etc/pantau/pantau-agent-extra.conf"
	)
	mustBeAbsent(t, name, config, token, stateDir, sysctl, community, extra, "/usr/bin/pantau-agent", "/usr/lib/pantau")
	before, _ := pantauPaths(t, -1, -1)
	etcExisted := exists("/etc/pantau")
	orig := readPingRange(t)
	// Whether this machine lets us set the range (not in every container).
	canSet := writePingRange(orig) == nil
	t.Cleanup(func() {
		if dpkgStatus(name) != "not-installed" {
			exec.Command("dpkg", "--purge", name).Run()
		}
		removeAccount(name)
		os.Remove(token)
		os.Remove(community)
		os.Remove(extra)
		os.Remove(sysctl)
		os.RemoveAll(stateDir)
		if !etcExisted {
			os.Remove("/etc/pantau")
		}
		if canSet {
			writePingRange(orig)
		}
	})

	// Install.
	out := dpkgInstall(t, files[agentDeb.key()])
	for _, want := range []string{"is installed but not started", "systemctl enable --now pantau-agent", "pantau-agent check-config"} {
		if !strings.Contains(out, want) {
			t.Errorf("dpkg -i output lacks %q:\n%s", want, out)
		}
	}
	if st := dpkgStatus(name); st != "installed" {
		t.Fatalf("status %s after dpkg -i", st)
	}
	user, group := getent(t, "passwd", name), getent(t, "group", name)
	if !user.exists || !group.exists || user.gid != group.id || user.home != stateDir || !strings.HasSuffix(user.shell, "/nologin") {
		t.Fatalf("user %+v, group %+v", user, group)
	}
	if user.id >= 1000 || user.id == 0 {
		t.Errorf("uid %d is not a system user's", user.id)
	}
	gid := group.id
	checkInstalled(t, name, gid)
	ownedBy(t, stateDir, user.id, gid, 0o750)

	// The sysctl drop-in holds the group's id and the range it found.
	checkSysctl := func(t *testing.T, want pingRange) {
		t.Helper()
		body := readFile(t, sysctl)
		var written pingRange
		var previous string
		for _, l := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(l, "net.ipv4.ping_group_range = "); ok {
				r, err := parsePingRange(v)
				if err != nil {
					t.Fatal(err)
				}
				written = r
			}
			if v, ok := strings.CutPrefix(l, "# pantau-agent previous range: "); ok {
				previous = v
			}
		}
		if written != want || !written.covers(gid) {
			t.Errorf("%s sets %v, want %v (gid %d)\n%s", sysctl, written, want, gid, body)
		}
		if previous != orig.String() {
			t.Errorf("%s records the previous range %q, want %q", sysctl, previous, orig)
		}
		ownedBy(t, sysctl, 0, 0, 0o644)
		if canSet {
			if live := readPingRange(t); live != want {
				t.Errorf("net.ipv4.ping_group_range is %v, want %v", live, want)
			}
		}
	}
	want := pingRange{gid, gid}
	if orig.first <= orig.last {
		want = pingRange{min(orig.first, gid), max(orig.last, gid)}
	}
	checkSysctl(t, want)
	if canSet && !orig.covers(gid) && !strings.Contains(out, "net.ipv4.ping_group_range = "+want.String()) {
		t.Errorf("dpkg -i did not say it set the range:\n%s", out)
	}
	if !canSet && !strings.Contains(out, "could not set net.ipv4.ping_group_range") {
		t.Errorf("dpkg -i did not warn that the range could not be set:\n%s", out)
	}

	// The agent, as its user, pings with an unprivileged ICMP socket.
	if canSet {
		dir := filepath.Join(workDir, "icmp")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "agent.yml")
		body := "agent: {state_dir: " + stateDir + ", icmp_mode: unprivileged, listen_address: \"\"}\n" +
			"defaults: {interval: 5s, timeout: 2s, icmp: {packets: 2, packet_interval: 100ms}}\n" +
			"icmp:\n  - {target: 127.0.0.1, name: loopback}\n"
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out := run(t, "", nil, "runuser", "-u", name, "--", "/usr/bin/pantau-agent", "probe", "--once", "--config", cfg)
		if !strings.Contains(out, "mode=unprivileged") || !strings.Contains(out, "up=1i") {
			t.Errorf("unprivileged ping as %s:\n%s", name, out)
		}
	} else {
		t.Logf("net.ipv4.ping_group_range cannot be set here: the unprivileged ping is not tried")
	}

	// The token and the SNMP community, written carelessly (root-only);
	// check-config passes as root. And a file of the operator's that the
	// agent's group reads.
	for _, f := range []string{token, community, extra} {
		if err := os.WriteFile(f, []byte("pt_deploy_test_secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(extra, 0, int(gid)); err != nil {
		t.Fatal(err)
	}
	out = run(t, "", nil, "/usr/bin/pantau-agent", "check-config", "--config", config, "--skip-plugins")
	if !strings.Contains(out, config+": ok") {
		t.Errorf("check-config of the packaged agent.yml: %s", out)
	}

	// The operator edits agent.yml.
	cfg := readFile(t, config)
	edited := strings.Replace(cfg, "url: https://noc.example.go.id:9810", "url: https://noc.pemda-test.example:9810", 1) + "# edited by TestDpkgInstallUpgradePurge\n"
	if edited == cfg+"# edited by TestDpkgInstallUpgradePurge\n" {
		t.Fatal("agent.yml has no collector URL placeholder to edit")
	}
	if err := os.WriteFile(config, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}

	// Upgrade: the edited config stays, without a prompt, and the token
	// becomes readable by the agent's group.
	upgrade := func(t *testing.T, deb string, live pingRange, want pingRange) {
		t.Helper()
		if canSet {
			if err := writePingRange(live); err != nil {
				t.Fatal(err)
			}
		}
		out := dpkgInstall(t, deb)
		if strings.Contains(out, "is installed but not started") {
			t.Errorf("an upgrade prints the first-install steps:\n%s", out)
		}
		if got := readFile(t, config); got != edited {
			t.Errorf("the upgrade changed the edited %s:\n%s", config, got)
		}
		if m, _ := filepath.Glob(config + ".dpkg-*"); len(m) > 0 {
			t.Errorf("the upgrade left %v", m)
		}
		ownedBy(t, config, 0, gid, 0o640)
		ownedBy(t, token, 0, gid, 0o640)
		ownedBy(t, community, 0, gid, 0o640)
		if u := getent(t, "passwd", name); u.id != user.id || u.gid != gid {
			t.Errorf("the upgrade changed the user: %+v, was %+v", u, user)
		}
		checkSysctl(t, want)
	}
	t.Run("upgrade", func(t *testing.T) {
		if canSet {
			// A range that already allows the group is kept as it is (it
			// leaves out gid 0: other tests run as root in parallel).
			wide := pingRange{1, 2147483647}
			upgrade(t, files[agentDeb2.key()], wide, wide)
		} else {
			upgrade(t, files[agentDeb2.key()], want, want)
		}
		if v := strings.TrimSpace(run(t, "", nil, "dpkg-query", "-W", "-f=${Version}", name)); v != testVersion2+"-1" {
			t.Errorf("version %s after the upgrade", v)
		}
		out := run(t, "", nil, "runuser", "-u", name, "--", "/usr/bin/pantau-agent", "check-config", "--config", config, "--skip-plugins")
		if !strings.Contains(out, config+": ok") {
			t.Errorf("check-config as %s: %s", name, out)
		}
	})
	if canSet {
		t.Run("reinstall widens a range", func(t *testing.T) {
			// A range that does not allow the group is widened to it.
			upgrade(t, files[agentDeb2.key()], pingRange{gid + 1, gid + 10}, pingRange{gid, gid + 10})
		})
	}

	// Purge: everything goes, the range comes back; the operator's file
	// stays, given to root (not left owned by a deleted group).
	out = run(t, "", nil, "dpkg", "--purge", name)
	if st := dpkgStatus(name); st != "not-installed" {
		t.Errorf("status %s after dpkg --purge:\n%s", st, out)
	}
	ownedBy(t, extra, 0, 0, 0o600)
	if !strings.Contains(out, "kept "+extra+", now owned by root") {
		t.Errorf("the purge does not name the operator's file it kept:\n%s", out)
	}
	checkNothingLeft(t, name, before, user.id, gid, extra, "/etc/pantau")
	for _, p := range []string{config, token, community, sysctl, stateDir, "/usr/bin/pantau-agent", "/usr/lib/pantau",
		"/usr/share/pantau-agent", "/usr/share/doc/pantau-agent", "/usr/lib/systemd/system/pantau-agent.service"} {
		if exists(p) {
			t.Errorf("%s is still there after the purge", p)
		}
	}
	if ents, _ := os.ReadDir("/etc/pantau"); !etcExisted && (len(ents) != 1 || ents[0].Name() != filepath.Base(extra)) {
		t.Errorf("/etc/pantau holds %v after the purge, want only the operator's %s", ents, extra)
	}
	if getent(t, "passwd", name).exists || getent(t, "group", name).exists {
		t.Error("the purge left the user or group")
	}
	if canSet {
		if live := readPingRange(t); live != orig {
			t.Errorf("after the purge net.ipv4.ping_group_range is %v, was %v before the install", live, orig)
		}
	}
}

func collectorRoundTrip(t *testing.T, files map[string]string) {
	const (
		name    = "pantau-collector"
		config  = "/etc/pantau/collector.yml"
		dataDir = "/var/lib/pantau-collector"
	)
	// an inventory the collector's user may rewrite (PUT /api/v1/inventory)
	const inventory = "/etc/pantau/pantau-collector-inventory.yml"
	mustBeAbsent(t, name, config, dataDir, inventory, "/usr/bin/pantau-collector", grafanaShare)
	before, _ := pantauPaths(t, -1, -1)
	etcExisted := exists("/etc/pantau")
	t.Cleanup(func() {
		if dpkgStatus(name) != "not-installed" {
			exec.Command("dpkg", "--purge", name).Run()
		}
		os.RemoveAll(dataDir)
		os.Remove(inventory)
		removeAccount(name)
		if !etcExisted {
			os.Remove("/etc/pantau")
		}
	})

	out := dpkgInstall(t, files[collectorDeb.key()])
	if !strings.Contains(out, "is installed but not started") {
		t.Errorf("dpkg -i output:\n%s", out)
	}
	user, group := getent(t, "passwd", name), getent(t, "group", name)
	if !user.exists || !group.exists || user.gid != group.id || user.home != dataDir {
		t.Fatalf("user %+v, group %+v", user, group)
	}
	checkInstalled(t, name, group.id)
	ownedBy(t, dataDir, user.id, group.id, 0o750)
	// Grafana's files, where docs/install.md and deploy/grafana/README.md
	// say they are; the provider reads the dashboards where they are.
	for _, p := range []string{"dashboards/pantau-noc.json", "provisioning/dashboards/pantau.yaml", "provisioning/datasources/pantau.yaml"} {
		ownedBy(t, filepath.Join(grafanaShare, p), 0, 0, 0o644)
	}
	if prov := readFile(t, grafanaShare+"/provisioning/dashboards/pantau.yaml"); !strings.Contains(prov, "path: "+grafanaShare+"/dashboards\n") {
		t.Errorf("the packaged dashboards provider does not read %s/dashboards:\n%s", grafanaShare, prov)
	}

	// The commands docs/install.md gives, as the service user.
	out = run(t, "", nil, "runuser", "-u", name, "--", "pantau-collector", "check-config", "--config", config)
	if !strings.Contains(out, ": OK") {
		t.Errorf("check-config: %s", out)
	}
	tok := run(t, "", nil, "runuser", "-u", name, "--", "pantau-collector", "token", "create", "--config", config, "--agent", "agent-test", "--site", "test")
	if !strings.Contains(tok, "created token") {
		t.Errorf("token create: %s", tok)
	}
	if st, err := os.Stat(filepath.Join(dataDir, "state.db")); err != nil {
		t.Error(err)
	} else if sys := st.Sys().(*syscall.Stat_t); int64(sys.Uid) != user.id || int64(sys.Gid) != group.id {
		t.Errorf("state.db is owned by %d:%d, not the service user", sys.Uid, sys.Gid)
	}
	ex := run(t, "", nil, "pantau-collector", "inventory", "example")
	if doc := "/usr/share/doc/pantau-collector/inventory.example.yml"; exists(doc) && readFile(t, doc) != ex {
		t.Errorf("%s is not what `pantau-collector inventory example` prints", doc)
	}

	if err := os.WriteFile(inventory, []byte("sites: []\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(inventory, int(user.id), int(group.id)); err != nil {
		t.Fatal(err)
	}

	// Remove keeps the data and the user; purge deletes everything the
	// package made, and says so; the operator's inventory stays, given to
	// root.
	run(t, "", nil, "dpkg", "--remove", name)
	if !exists(filepath.Join(dataDir, "state.db")) || !getent(t, "passwd", name).exists {
		t.Error("dpkg --remove deleted the collector's data or user")
	}
	out = run(t, "", nil, "dpkg", "--purge", name)
	if !strings.Contains(out, "deleted /var/lib/pantau-collector") {
		t.Errorf("the purge does not say it deleted the data:\n%s", out)
	}
	for _, p := range []string{config, dataDir, grafanaShare, "/usr/share/pantau", "/usr/bin/pantau-collector", "/usr/lib/systemd/system/pantau-collector.service"} {
		if exists(p) {
			t.Errorf("%s is still there after the purge", p)
		}
	}
	ownedBy(t, inventory, 0, 0, 0o640)
	if !strings.Contains(out, "kept "+inventory+", now owned by root") {
		t.Errorf("the purge does not name the operator's file it kept:\n%s", out)
	}
	checkNothingLeft(t, name, before, user.id, group.id, inventory, "/etc/pantau")
}
