package fleet

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// Release key file names in release keygen's --out-dir.
const (
	PrivateKeyFile = "release-signing.key"
	PublicKeyFile  = "release-signing.pub"
)

// releaseFile is a release's binary inside its directory.
const (
	releaseFile  = "pantau-agent"
	manifestFile = "manifest.json"
	maxManifest  = 64 << 10
)

var (
	versionRE  = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$`)
	platformRE = regexp.MustCompile(`^[a-z0-9]{1,16}$`)
)

// Manifest describes a signed release in the release store.
type Manifest struct {
	Version   string    `json:"version"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	SHA256    string    `json:"sha256"`    // hex
	Signature []byte    `json:"signature"` // ed25519 over fleetproto.ReleaseMessage
	Size      int64     `json:"size"`
	SignedAt  time.Time `json:"signed_at"`
}

// Sum is the binary's SHA-256.
func (m *Manifest) Sum() []byte { b, _ := hex.DecodeString(m.SHA256); return b }

// ValidRelease checks a version and platform: what the download path and
// the release store's directories are made of.
func ValidRelease(version, goos, goarch string) error {
	if !versionRE.MatchString(version) || strings.Contains(version, "..") {
		return fmt.Errorf("version %q: use 1-64 letters, digits, '.', '+', '_' or '-'", version)
	}
	if !platformRE.MatchString(goos) || !platformRE.MatchString(goarch) {
		return fmt.Errorf("platform %q/%q: os and arch are Go's names, such as linux and amd64", goos, goarch)
	}
	return nil
}

// ParseManifest decodes and checks a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > maxManifest {
		return nil, fmt.Errorf("release manifest larger than %d bytes", maxManifest)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode release manifest: %w", err)
	}
	if err := ValidRelease(m.Version, m.OS, m.Arch); err != nil {
		return nil, fmt.Errorf("release manifest: %w", err)
	}
	if s, err := hex.DecodeString(m.SHA256); err != nil || len(s) != sha256.Size {
		return nil, errors.New("release manifest: sha256 is not a hex SHA-256")
	}
	if len(m.Signature) != ed25519.SignatureSize {
		return nil, fmt.Errorf("release manifest: signature has %d bytes, want %d", len(m.Signature), ed25519.SignatureSize)
	}
	if m.Size < 0 {
		return nil, errors.New("release manifest: negative size")
	}
	return &m, nil
}

// Keygen writes a new ed25519 release signing key pair into dir: the
// private key (PKCS #8 PEM, 0600) and the public key (PKIX PEM), which
// goes into every agent's update.public_key_file. It refuses to
// overwrite an existing key.
func Keygen(dir string) (privPath, pubPath string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate release key: %w", err)
	}
	privPEM, err := fleetproto.MarshalPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pubPEM, err := fleetproto.MarshalPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create %s: %w", dir, err)
	}
	privPath, pubPath = filepath.Join(dir, PrivateKeyFile), filepath.Join(dir, PublicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return "", "", fmt.Errorf("%s exists: keygen does not overwrite a key (agents trust the old one); move it away first", p)
		}
	}
	if err := writeFileExcl(privPath, privPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFileExcl(pubPath, pubPEM, 0o644); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}

func writeFileExcl(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SignRelease signs binary as version for goos/goarch with the private
// key in keyFile and stores it in the release store dir: the binary and
// its manifest under dir/<version>/<os>-<arch>/. Signing the same
// release again replaces it.
func SignRelease(keyFile, binary, version, goos, goarch, dir string, now time.Time) (*Manifest, error) {
	if err := ValidRelease(version, goos, goarch); err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read release key %s: %w", keyFile, err)
	}
	priv, err := fleetproto.ParsePrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("release key %s: %w", keyFile, err)
	}
	src, err := os.Open(binary)
	if err != nil {
		return nil, fmt.Errorf("open binary: %w", err)
	}
	defer src.Close()
	rdir := filepath.Join(dir, version, goos+"-"+goarch)
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return nil, fmt.Errorf("create release directory %s: %w", rdir, err)
	}
	tmp, err := os.CreateTemp(rdir, ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("create release file in %s: %w", rdir, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("copy %s into the release store: %w", binary, err)
	}
	sum := h.Sum(nil)
	m := &Manifest{Version: version, OS: goos, Arch: goarch, SHA256: hex.EncodeToString(sum),
		Signature: ed25519.Sign(priv, fleetproto.ReleaseMessage(version, goos, goarch, sum)), Size: n, SignedAt: now.UTC()}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(rdir, releaseFile)); err != nil {
		return nil, fmt.Errorf("store release %s: %w", rdir, err)
	}
	mtmp := filepath.Join(rdir, ".manifest.tmp")
	if err := os.WriteFile(mtmp, append(mj, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write manifest in %s: %w", rdir, err)
	}
	if err := os.Rename(mtmp, filepath.Join(rdir, manifestFile)); err != nil {
		return nil, fmt.Errorf("store manifest in %s: %w", rdir, err)
	}
	// A running collector lists the store again when its time changes
	// (Releases.List): the release is offered at the agents' next poll.
	if err := os.Chtimes(dir, time.Time{}, time.Now()); err != nil {
		return nil, fmt.Errorf("mark the release store %s changed: %w", dir, err)
	}
	return m, nil
}

// Releases is the release store: <data-dir>/releases. Its listing is
// cached while the store directory's modification time stays the same
// (SignRelease sets it), and for at most ReleasesRescan (a release copied
// in by hand is offered within that).
type Releases struct {
	dir string

	mu      sync.Mutex
	scanned time.Time
	mtime   time.Time // of dir at the scan
	list    []*Manifest
}

// ReleasesRescan is how long a listing of the release store is reused.
const ReleasesRescan = 10 * time.Second

// NewReleases opens the release store in dir (which may not exist yet).
func NewReleases(dir string) *Releases { return &Releases{dir: dir} }

// Dir is the store's directory.
func (r *Releases) Dir() string { return r.dir }

// List returns the valid releases of the store.
func (r *Releases) List(now time.Time) ([]*Manifest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mtime time.Time
	if fi, err := os.Stat(r.dir); err == nil {
		mtime = fi.ModTime()
	}
	if r.list != nil && mtime.Equal(r.mtime) && now.Sub(r.scanned) < ReleasesRescan && !now.Before(r.scanned) {
		return r.list, nil
	}
	paths, err := filepath.Glob(filepath.Join(r.dir, "*", "*", manifestFile))
	if err != nil {
		return nil, fmt.Errorf("list releases in %s: %w", r.dir, err)
	}
	list := []*Manifest{}
	for _, p := range paths {
		data, err := readBounded(p, maxManifest)
		if err != nil {
			continue
		}
		m, err := ParseManifest(data)
		if err != nil || filepath.Join(r.dir, m.Version, m.OS+"-"+m.Arch, manifestFile) != p {
			continue
		}
		list = append(list, m)
	}
	r.list, r.scanned, r.mtime = list, now, mtime
	return list, nil
}

// Newest returns the most recently signed release for goos/goarch; nil
// when there is none.
func (r *Releases) Newest(goos, goarch string, now time.Time) (*Manifest, error) {
	list, err := r.List(now)
	if err != nil {
		return nil, err
	}
	var best *Manifest
	for _, m := range list {
		if m.OS == goos && m.Arch == goarch && (best == nil || m.SignedAt.After(best.SignedAt)) {
			best = m
		}
	}
	return best, nil
}

// Open opens a release's binary and manifest.
func (r *Releases) Open(version, goos, goarch string) (*os.File, *Manifest, error) {
	if err := ValidRelease(version, goos, goarch); err != nil {
		return nil, nil, err
	}
	rdir := filepath.Join(r.dir, version, goos+"-"+goarch)
	data, err := readBounded(filepath.Join(rdir, manifestFile), maxManifest)
	if err != nil {
		return nil, nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(rdir, releaseFile))
	if err != nil {
		return nil, nil, fmt.Errorf("open release %s for %s/%s: %w", version, goos, goarch, err)
	}
	return f, m, nil
}

// readBounded reads at most max bytes of a file.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return data, nil
}

// isNotExist reports a missing file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
