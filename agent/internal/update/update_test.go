package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/testbuild"
)

const goodVersion = "v9.9.0-test"

type testKey struct {
	priv ed25519.PrivateKey
	file string // the public key, PEM
}

func newKey(t *testing.T, dir string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemb, err := fleetproto.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "release.pub")
	if err := os.WriteFile(file, pemb, 0o644); err != nil {
		t.Fatal(err)
	}
	return testKey{priv: priv, file: file}
}

// sign is what `pantau-collector release sign` offers for data as version.
func (k testKey) sign(version string, data []byte) Package {
	sum := sha256.Sum256(data)
	return Package{Version: version, SHA256: sum[:], Signature: ed25519.Sign(k.priv, fleetproto.ReleaseMessage(version, runtime.GOOS, runtime.GOARCH, sum[:]))}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staged lists the release binaries and downloads in the update directory.
func stagedFiles(t *testing.T, stateDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(Dir(stateDir))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, binPrefix) || strings.HasPrefix(n, downloadPrefix) {
			out = append(out, n)
		}
	}
	return out
}

// TestOfferRefused: a release with a bad signature, signed with another
// key or for another version, whose file is not the signed one, that
// names another version when run, that is too large, offered while
// updates are off or without a readable public key, is refused: nothing
// is staged and the state says failed, with the reason.
func TestOfferRefused(t *testing.T) {
	good := readFile(t, testbuild.AgentVersion(t, goodVersion))
	dir := t.TempDir()
	key := newKey(t, dir)
	other := newKey(t, t.TempDir())
	badSig := key.sign(goodVersion, good)
	badSig.Signature = bytes.Clone(badSig.Signature)
	badSig.Signature[0] ^= 1
	otherVersion := key.sign("v9.9.1", good)
	otherVersion.Version = goodVersion
	for _, tc := range []struct {
		name string
		p    Package
		body []byte
		opts func(*Options)
		want string
	}{
		{"bad signature", badSig, good, nil, "does not verify with the configured public key"},
		{"another key", other.sign(goodVersion, good), good, nil, "does not verify"},
		{"signed for another version", otherVersion, good, nil, "does not verify"},
		{"another file", key.sign(goodVersion, []byte("something else")), good, nil, "SHA-256"},
		{"names another version", key.sign("v9.9.5", good), good, nil, "printed \"pantau-agent " + goodVersion},
		{"does not run", key.sign("v9.9.6", []byte("not a program")), []byte("not a program"), nil, "self-test"},
		{"too large", key.sign(goodVersion, good), good, func(o *Options) { o.MaxBytes = 1 << 20 }, "more than the 1048576 bytes"},
		{"disabled", key.sign(goodVersion, good), good, func(o *Options) { o.Enabled = false }, "updates are disabled"},
		{"no public key", key.sign(goodVersion, good), good, func(o *Options) { o.PublicKeyFile = filepath.Join(dir, "missing.pub") }, "read the release public key"},
		{"not a public key", key.sign(goodVersion, good), good, func(o *Options) { o.PublicKeyFile = filepath.Join(dir, "agent.yml") }, "no PEM"},
		{"bad version", key.sign("../v1", good), good, nil, "is not 1-64 letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "agent.yml"), []byte("agent: {}\n"), 0o600)
			o := Options{StateDir: t.TempDir(), Enabled: true, PublicKeyFile: key.file, Running: "dev", Logger: slog.New(slog.DiscardHandler)}
			if tc.opts != nil {
				tc.opts(&o)
			}
			u, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			staged, err := u.Offer(context.Background(), tc.p, bytes.NewReader(tc.body))
			if staged || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Offer = %v, %v; want refused with %q", staged, err, tc.want)
			}
			if f := stagedFiles(t, o.StateDir); len(f) > 0 {
				t.Fatalf("staged after a refusal: %v", f)
			}
			if !o.Enabled {
				if _, err := os.Stat(Dir(o.StateDir)); !os.IsNotExist(err) {
					t.Fatalf("updates off, but the update directory is there: %v", err)
				}
				return
			}
			st, serr := State(o.StateDir)
			if serr != nil || st.State != StateFailed || st.Version != tc.p.Version || st.Message != err.Error() {
				t.Fatalf("State = %+v, %v", st, serr)
			}
		})
	}
}

// TestFetch: Fetch downloads from the offer's URL with its headers, and a
// refused signature downloads nothing.
func TestFetch(t *testing.T) {
	good := readFile(t, testbuild.AgentVersion(t, goodVersion))
	key := newKey(t, t.TempDir())
	var getsN atomic.Int32
	gets := func() int { return int(getsN.Load()) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		getsN.Add(1)
		if r.Header.Get("Authorization") != "Token agent-tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		w.Write(good)
	}))
	defer srv.Close()
	state := t.TempDir()
	u, _ := New(Options{StateDir: state, Enabled: true, PublicKeyFile: key.file, Running: "dev", Logger: slog.New(slog.DiscardHandler)})
	bad := key.sign(goodVersion, good)
	bad.Signature = make([]byte, ed25519.SignatureSize)
	if ok, err := u.Fetch(context.Background(), srv.Client(), bad, srv.URL, nil); ok || !errors.Is(err, ErrRefused) || gets() != 0 {
		t.Fatalf("bad signature: %v, %v, %d downloads", ok, err, gets())
	}
	if ok, err := u.Fetch(context.Background(), srv.Client(), key.sign(goodVersion, good), srv.URL, nil); ok || err == nil || errors.Is(err, ErrRefused) {
		t.Fatalf("without the token: %v, %v", ok, err)
	}
	h := http.Header{"Authorization": {"Token agent-tok"}}
	if ok, err := u.Fetch(context.Background(), srv.Client(), key.sign(goodVersion, good), srv.URL, h); !ok || err != nil {
		t.Fatalf("good release: %v, %v", ok, err)
	}
	if f := stagedFiles(t, state); len(f) != 1 || f[0] != binPrefix+goodVersion {
		t.Fatalf("staged: %v", f)
	}
	st, _ := State(state)
	if st.State != StatePending || st.Version != goodVersion {
		t.Fatalf("State = %+v", st)
	}
	// Staged over this (packaged) binary: a package upgrade before the
	// restart discards it.
	exe, _ := os.Executable()
	if sf, err := readState(Dir(state)); err != nil || sf.Base != identityOf(exe) {
		t.Fatalf("base %q, want %q (%v)", sf.Base, identityOf(exe), err)
	}
	// Offered again (OpAMP repeats offers): nothing to do.
	if ok, err := u.Fetch(context.Background(), srv.Client(), key.sign(goodVersion, good), srv.URL, h); ok || err != nil || gets() != 2 {
		t.Fatalf("offered again: %v, %v, %d downloads", ok, err, gets())
	}
	// Another release while this one waits for its trial: refused, and
	// the pending one stays.
	if ok, err := u.Fetch(context.Background(), srv.Client(), key.sign("v9.9.7", good), srv.URL, h); ok || !errors.Is(err, ErrRefused) {
		t.Fatalf("second release: %v, %v", ok, err)
	}
	if st, _ := State(state); st.State != StatePending || st.Version != goodVersion {
		t.Fatalf("State = %+v", st)
	}
}

// TestRefusedNotDownloadedAgain: a signed file that fails the self-test
// is refused at once when offered again unchanged; a file served with the
// wrong hash is downloaded again (the server may have been fixed).
func TestRefusedNotDownloadedAgain(t *testing.T) {
	good := readFile(t, testbuild.AgentVersion(t, goodVersion))
	key := newKey(t, t.TempDir())
	var getsN atomic.Int32
	gets := func() int { return int(getsN.Load()) }
	var serve atomic.Pointer[[]byte]
	bad := []byte("not a program")
	serve.Store(&bad)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		getsN.Add(1)
		w.Write(*serve.Load())
	}))
	defer srv.Close()
	state := t.TempDir()
	u, _ := New(Options{StateDir: state, Enabled: true, PublicKeyFile: key.file, Running: "dev", Logger: slog.New(slog.DiscardHandler)})
	fetch := func(p Package) (bool, error) { return u.Fetch(context.Background(), srv.Client(), p, srv.URL, nil) }
	broken := key.sign("v9.9.8", bad)
	if ok, err := fetch(broken); ok || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "self-test") || gets() != 1 {
		t.Fatalf("first offer: %v, %v, %d downloads", ok, err, gets())
	}
	if ok, err := fetch(broken); ok || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not downloaded again") || gets() != 1 {
		t.Fatalf("second offer: %v, %v, %d downloads", ok, err, gets())
	}
	if st, _ := State(state); st.State != StateFailed || st.Version != "v9.9.8" || !strings.Contains(st.ErrorMessage(), "not downloaded again") {
		t.Fatalf("State = %+v", st)
	}
	p := key.sign(goodVersion, good)
	for range 2 {
		if ok, err := fetch(p); ok || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "SHA-256") {
			t.Fatalf("the wrong file: %v, %v", ok, err)
		}
	}
	if gets() != 3 {
		t.Fatalf("%d downloads, want the wrong file fetched twice", gets())
	}
	serve.Store(&good)
	if ok, err := fetch(p); !ok || err != nil {
		t.Fatalf("the server fixed: %v, %v", ok, err)
	}
	if f := stagedFiles(t, state); len(f) != 1 {
		t.Fatalf("staged: %v", f)
	}
}

// TestMarkHealthy: without an update directory it does nothing; with one
// it leaves the mark the launcher looks for.
func TestMarkHealthy(t *testing.T) {
	state := t.TempDir()
	if err := MarkHealthy(state, goodVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(Dir(state)); !os.IsNotExist(err) {
		t.Fatalf("update directory created: %v", err)
	}
	os.Mkdir(Dir(state), 0o750)
	for range 2 {
		if err := MarkHealthy(state, goodVersion); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(Dir(state), healthyPrefix+goodVersion)); err != nil {
		t.Fatal(err)
	}
	if err := MarkHealthy(state, "../../etc/x"); err == nil {
		t.Fatal("a version with a path was accepted")
	}
	if st, err := State(state); err != nil || st != (Status{}) {
		t.Fatalf("State = %+v, %v", st, err)
	}
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"base":"/usr/bin/pantau-agent size=1 mtime=2","current":{"version":"v1.2.3","sha256":"` + strings.Repeat("ab", 32) + `"},` +
		`"trial":{"version":"v1.3.0","sha256":"` + strings.Repeat("cd", 32) + `","started":true,"deadline":"2026-12-07T16:00:00Z"},` +
		`"status":{"version":"v1.3.0","state":"pending","time":"2026-12-07T15:58:00Z"},"rolled_back":["v1.2.9"],` +
		`"refused":{"version":"v1.4.0","sha256":"` + strings.Repeat("ef", 32) + `","message":"the downloaded file's SHA-256 differs"}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{"format":1,"current":{"version":"../x","sha256":"00"}}`))
	f.Add([]byte(`{"format":1,"status":{"state":"weird"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseState(data)
		if err != nil {
			return
		}
		// What parses names only safe file names and writes back as itself.
		for _, r := range []*staged{s.Current, trialStaged(s)} {
			if r != nil && (strings.ContainsAny(r.Version, "/\\") || strings.HasPrefix(r.Version, ".")) {
				t.Fatalf("unsafe version %q", r.Version)
			}
		}
		dir := t.TempDir()
		if err := writeState(dir, s); err != nil {
			t.Fatal(err)
		}
		again, err := readState(dir)
		if err != nil {
			t.Fatalf("written state does not read back: %v", err)
		}
		if (again.Current == nil) != (s.Current == nil) || (again.Trial == nil) != (s.Trial == nil) || len(again.RolledBack) != len(s.RolledBack) {
			t.Fatalf("round trip: %+v != %+v", again, s)
		}
	})
}

func trialStaged(s *stateFile) *staged {
	if s.Trial == nil {
		return nil
	}
	return &s.Trial.staged
}

// TestUnitRestartsOnExitCode: the packaged unit restarts the agent on
// ExitCode.
func TestUnitRestartsOnExitCode(t *testing.T) {
	unit := string(readFile(t, "../../../deploy/systemd/pantau-agent.service"))
	for _, want := range []string{"\nRestart=on-failure\n", "\nRestartForceExitStatus=" + strconv.Itoa(ExitCode) + "\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("pantau-agent.service lacks %q", strings.TrimSpace(want))
		}
	}
}
