// Package update installs pantau-agent releases that the collector offers
// (docs/agent.md, "Updates"; docs/fleet.md, "Agent updates"). It is off
// unless update.enabled is set.
//
// The packaged binary (/usr/bin/pantau-agent) is root's and the agent runs
// as its own user, so a release never replaces it: Offer checks the
// release's ed25519 signature against update.public_key_file, downloads it
// into <state>/update/pantau-agent-<version>, checks its SHA-256 and that
// it runs and names the offered version, and records it as the trial. The
// agent then stops and exits with ExitCode; systemd starts the packaged
// binary again, whose Launch (at the start of `run`) runs the trial as a
// child process until it reports healthy (MarkHealthy) within
// update.health_timeout. Healthy: the release is committed and exec'd in
// place of the launcher, and every later start execs it. Not healthy in
// time, or exited: it is killed, remembered as rolled back (never tried
// again), and the previous version runs on.
package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/internal/buildinfo"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

const (
	// ExitCode is the exit status of `pantau-agent run` after a release
	// was staged: the service manager (systemd: Restart=on-failure,
	// RestartForceExitStatus=75) starts the agent again, and the launcher
	// runs the release on trial. 75 is EX_TEMPFAIL of sysexits.h.
	ExitCode = 75
	// EnvLaunched is set (to 1) in the environment of a process the
	// launcher started or exec'd: it runs the agent without looking at
	// the update directory again.
	EnvLaunched = "PANTAU_AGENT_LAUNCHED"
	// EnvTrial is set (to 1) in the environment of a release on trial.
	EnvTrial = "PANTAU_AGENT_TRIAL"
	// envBase carries the launcher's identity (the packaged binary) to
	// the releases it starts, for the offers they stage.
	envBase = "PANTAU_AGENT_PACKAGED"
	// DefaultHealthTimeout is update.health_timeout's default.
	DefaultHealthTimeout = 2 * time.Minute
	// DefaultMaxBytes bounds a release download.
	DefaultMaxBytes = 256 << 20
	// selfTestTimeout bounds `<release> version`.
	selfTestTimeout = 30 * time.Second
)

var (
	// ErrRestart is what agent.Run returns (wrapped) after Offer staged a
	// release and the agent shut down gracefully: `pantau-agent run`
	// then exits with ExitCode.
	ErrRestart = errors.New("a release is staged: restart to run it on trial")
	// ErrRefused marks an offer refused for what it is (signature, hash,
	// version, size, no key, updates disabled), as opposed to a download
	// or disk failure that may pass.
	ErrRefused = errors.New("release refused")
	// ErrDisabled refuses every offer while update.enabled is false.
	ErrDisabled = fmt.Errorf("%w: updates are disabled on this agent (set update.enabled: true and update.public_key_file)", ErrRefused)
)

// Package is a release as the collector offers it
// (PackagesAvailable.Packages["pantau-agent"]: Version,
// File.ContentHash, File.Signature).
type Package struct {
	Version   string
	SHA256    []byte // of the binary
	Signature []byte // ed25519 over fleetproto.ReleaseMessage(Version, GOOS, GOARCH, SHA256)
}

// Options configure an Updater.
type Options struct {
	StateDir      string // agent.state_dir
	Enabled       bool   // update.enabled
	PublicKeyFile string // update.public_key_file, read at every offer
	// MaxBytes bounds a download (default DefaultMaxBytes).
	MaxBytes int64
	// Running is the running version (default buildinfo.Version): an offer
	// of it is nothing to do.
	Running string
	Logger  *slog.Logger
}

// Updater checks and stages offered releases. Its methods are safe for
// concurrent use; one offer is handled at a time.
type Updater struct {
	o  Options
	mu sync.Mutex
}

// New returns an Updater for the agent's state directory.
func New(o Options) (*Updater, error) {
	if o.StateDir == "" || o.Logger == nil {
		return nil, errors.New("update: StateDir and Logger are required")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Running == "" {
		o.Running = buildinfo.Version
	}
	return &Updater{o: o}, nil
}

// Offer checks the release p, reading its binary from body, and stages
// it for a trial at the next start. It returns:
//
//   - true, nil: staged. The caller shuts the agent down gracefully and
//     exits with ExitCode (agent.Run returns an error wrapping ErrRestart).
//   - false, nil: nothing to do: p is the running release, or the one
//     already staged or committed.
//   - false, err: not staged. errors.Is(err, ErrRefused) for a release
//     refused for what it is; State then reports "failed" with the reason
//     (except for a version rolled back before, which keeps reporting
//     "rolled_back", an offer while another release is on trial, and
//     ErrDisabled, which writes nothing).
//
// Nothing is staged unless every check passes.
func (u *Updater) Offer(ctx context.Context, p Package, body io.Reader) (bool, error) {
	return u.offer(ctx, p, func(context.Context) (io.ReadCloser, error) { return io.NopCloser(body), nil })
}

// Fetch is Offer with the binary downloaded from url (the offer's
// File.DownloadUrl, with its File.Headers) by client. The signature is
// checked before anything is downloaded.
func (u *Updater) Fetch(ctx context.Context, client *http.Client, p Package, url string, header http.Header) (bool, error) {
	return u.offer(ctx, p, func(ctx context.Context) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("download release %s: %w", p.Version, err)
		}
		for k, vs := range header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("download release %s: %w", p.Version, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("download release %s: HTTP status %s", p.Version, resp.Status)
		}
		if resp.ContentLength > u.o.MaxBytes {
			resp.Body.Close()
			return nil, fmt.Errorf("%w: release %s is %d bytes, more than the %d an agent accepts", ErrRefused, p.Version, resp.ContentLength, u.o.MaxBytes)
		}
		return resp.Body, nil
	})
}

func (u *Updater) offer(ctx context.Context, p Package, open func(context.Context) (io.ReadCloser, error)) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.o.Enabled {
		// Nothing is written: an agent with updates off keeps no update
		// directory. The caller reports the error.
		return false, ErrDisabled
	}
	log := u.o.Logger.With("release", p.Version)
	dir := Dir(u.o.StateDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, fmt.Errorf("create the update directory: %w", err)
	}
	st, err := readState(dir)
	if err != nil {
		return false, err
	}
	switch {
	case p.Version == u.o.Running:
		return false, nil
	case st.Trial != nil && st.Trial.Version == p.Version, st.Current != nil && st.Current.Version == p.Version:
		return false, nil
	case st.Trial != nil:
		return false, fmt.Errorf("%w: release %s is on trial; offer %s again once it is committed or rolled back", ErrRefused, st.Trial.Version, p.Version)
	case slices.Contains(st.RolledBack, p.Version):
		return false, fmt.Errorf("%w: release %s was rolled back on this agent and is not tried again", ErrRefused, p.Version)
	}
	fail := func(err error) (bool, error) {
		log.Warn("release not staged", "err", err)
		st.setStatus(p.Version, StateFailed, err.Error())
		if werr := writeState(dir, st); werr != nil {
			return false, errors.Join(err, werr)
		}
		return false, err
	}
	if err := checkVersion(p.Version); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrRefused, err))
	}
	key, err := LoadPublicKey(u.o.PublicKeyFile)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrRefused, err))
	}
	if err := fleetproto.VerifyRelease(key, p.Version, runtime.GOOS, runtime.GOARCH, p.SHA256, p.Signature); err != nil {
		return fail(fmt.Errorf("%w: %w (%s): signed with another key, or for another version, platform or file", ErrRefused, err, u.o.PublicKeyFile))
	}
	this := staged{Version: p.Version, SHA256: hex.EncodeToString(p.SHA256)}
	if r := st.Refused; r != nil && r.staged == this {
		return fail(fmt.Errorf("%w: release %s (SHA-256 %s) was refused before and is not downloaded again: %s", ErrRefused, p.Version, r.SHA256, r.Message))
	}
	st.setStatus(p.Version, StateDownloading, "")
	if err := writeState(dir, st); err != nil {
		return false, err
	}
	log.Info("release offered; downloading")
	bin, err := u.download(ctx, dir, p, open)
	if err != nil {
		// Not remembered: the file served may be fixed under the same hash.
		return fail(err)
	}
	if err := selfTest(ctx, bin, p.Version); err != nil {
		// The signed file itself does not run as the offered version:
		// the same file is refused at once if offered again.
		os.Remove(bin)
		err = fmt.Errorf("%w: %w", ErrRefused, err)
		st.Refused = &refusal{staged: this, Message: err.Error()}
		return fail(err)
	}
	st.Refused = nil
	st.Trial = &trial{staged: this}
	if st.Base == "" {
		st.Base = packagedIdentity()
	}
	st.setStatus(p.Version, StatePending, "staged; runs on trial at the next start")
	if err := writeState(dir, st); err != nil {
		os.Remove(bin)
		return false, err
	}
	cleanup(dir, st)
	log.Info("release staged; the agent restarts to run it on trial", "path", bin)
	return true, nil
}

// download writes the release to the update directory and checks its
// size and SHA-256. It returns the staged binary's path.
func (u *Updater) download(ctx context.Context, dir string, p Package, open func(context.Context) (io.ReadCloser, error)) (string, error) {
	body, err := open(ctx)
	if err != nil {
		return "", err
	}
	defer body.Close()
	f, err := os.CreateTemp(dir, downloadPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("stage release %s: %w", p.Version, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, body}, u.o.MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("download release %s: %w", p.Version, err)
	}
	if n > u.o.MaxBytes {
		return "", fmt.Errorf("%w: release %s is more than the %d bytes an agent accepts", ErrRefused, p.Version, u.o.MaxBytes)
	}
	if sum := sumOf(h); !bytes.Equal(sum, p.SHA256) {
		return "", fmt.Errorf("%w: the downloaded file's SHA-256 %x is not the offered %x (%d bytes)", ErrRefused, sum, p.SHA256, n)
	}
	if err := f.Chmod(0o750); err != nil {
		return "", fmt.Errorf("stage release %s: %w", p.Version, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("stage release %s: %w", p.Version, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("stage release %s: %w", p.Version, err)
	}
	bin := binPath(dir, p.Version)
	if err := os.Rename(f.Name(), bin); err != nil {
		return "", fmt.Errorf("stage release %s: %w", p.Version, err)
	}
	return bin, syncDir(dir)
}

func sumOf(h hash.Hash) []byte { return h.Sum(nil) }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// selfTest runs `<bin> version` and checks that it names version.
func selfTest(ctx context.Context, bin, version string) error {
	ctx, cancel := context.WithTimeout(ctx, selfTestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version")
	cmd.Env = launchedEnv(false)
	out := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("self-test `%s version` failed: %w: %s", bin, err, strings.TrimSpace(out.String()))
	}
	f := strings.Fields(out.String())
	if len(f) < 2 || f[0] != "pantau-agent" || f[1] != version {
		return fmt.Errorf("self-test: `%s version` printed %q, not pantau-agent %s", bin, firstLine(out.String()), version)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// launchedEnv is this process's environment for a process the launcher
// starts: EnvLaunched=1, and EnvTrial=1 for a trial.
func launchedEnv(trial bool) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, EnvLaunched+"=") || strings.HasPrefix(kv, EnvTrial+"=") || strings.HasPrefix(kv, envBase+"=")
	})
	env = append(env, EnvLaunched+"=1", envBase+"="+packagedIdentity())
	if trial {
		env = append(env, EnvTrial+"=1")
	}
	return env
}
