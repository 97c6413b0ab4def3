// Package fleetproto is the contract between the agent and the collector
// for fleet management: the enrolment code and request, the paths, the
// remote config file, the custom status message carried over OpAMP and
// what a release signature covers. Both binaries import it, so the two
// sides cannot drift apart.
package fleetproto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Paths on the collector.
const (
	// OpAMPPath is where the collector serves OpAMP over plain HTTP.
	OpAMPPath = "/v1/opamp"
	// EnrollPath trades an enrolment code for the agent's own token.
	EnrollPath = "/api/v1/enroll"
	// ReleasesPath prefixes release downloads:
	// ReleasesPath + "{version}/{os}-{arch}".
	ReleasesPath = "/api/v1/fleet/releases/"
)

// Remote config and custom messages.
const (
	// ConfigFile is the key of the agent.yml fragment in the OpAMP
	// AgentConfigMap.
	ConfigFile = "pantau-agent.yml"
	// ConfigContentType is the fragment's content type.
	ConfigContentType = "application/yaml"
	// StatusCapability is the custom capability whose "status" messages
	// carry what OpAMP's standard fields do not.
	StatusCapability = "io.pantau.status"
	// StatusMessageType is the custom message type of Status.
	StatusMessageType = "status"
	// PackageName is the top-level package an update offers.
	PackageName = "pantau-agent"
	// SecretPlaceholder replaces every secret in a reported effective
	// config.
	SecretPlaceholder = "<secret>"
)

// EnrollRequest is the body of POST EnrollPath.
type EnrollRequest struct {
	Code     string `json:"code"`
	Agent    string `json:"agent,omitempty"`    // requested agent id; the code's wins
	Hostname string `json:"hostname,omitempty"` // for the audit log and the fleet view
	Version  string `json:"version,omitempty"`
}

// EnrollResponse answers a successful enrolment.
type EnrollResponse struct {
	Agent    string `json:"agent"`
	Site     string `json:"site"`
	Token    string `json:"token"`
	OpAMPURL string `json:"opamp_url"` // absolute, or a path on the collector's URL
}

// Status is the custom "status" message.
type Status struct {
	Time                  time.Time `json:"time"` // the agent's clock when it sent the message
	QueuePoints           int64     `json:"queue_points"`
	QueueBytes            int64     `json:"queue_bytes"`
	QueueOldestAgeSeconds float64   `json:"queue_oldest_age_seconds"`
}

// b32 is lowercase RFC 4648 base32 without padding: unambiguous to read
// out and type, and safe in a shell argument.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Encode returns b in the code's base32 alphabet.
func Encode(b []byte) string { return b32.EncodeToString(b) }

const codePrefix = "PNT1"

// MaxCodeLength bounds a code's text before it is parsed.
const MaxCodeLength = 256

// Code is a one-time enrolment code. ID is public (looked up); Secret is
// checked against its stored hash; Pin, when set, is the SHA-256 of the
// collector certificate's SubjectPublicKeyInfo, so that the agent's first
// contact cannot be intercepted.
type Code struct {
	ID     string
	Secret string
	Pin    []byte // 32 bytes, or nil when the collector serves plain HTTP
}

// String is the code's text form: PNT1-<id>-<secret>[-<pin>].
func (c Code) String() string {
	s := codePrefix + "-" + c.ID + "-" + c.Secret
	if len(c.Pin) > 0 {
		s += "-" + Encode(c.Pin)
	}
	return s
}

// ErrBadCode is returned by ParseCode.
var ErrBadCode = errors.New("malformed enrolment code")

// ParseCode parses a code's text form. Surrounding space is ignored and
// letters may be upper case (a code read out over the phone).
func ParseCode(s string) (Code, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxCodeLength {
		return Code{}, fmt.Errorf("%w: longer than %d characters", ErrBadCode, MaxCodeLength)
	}
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 4 || !strings.EqualFold(parts[0], codePrefix) {
		return Code{}, fmt.Errorf("%w: want %s-<id>-<secret>[-<pin>]", ErrBadCode, codePrefix)
	}
	c := Code{ID: strings.ToLower(parts[1]), Secret: strings.ToLower(parts[2])}
	if !codeWord(c.ID, 4, 32) {
		return Code{}, fmt.Errorf("%w: the id %q is not 4-32 characters of a-z and 2-7", ErrBadCode, parts[1])
	}
	if !codeWord(c.Secret, 16, 64) {
		return Code{}, fmt.Errorf("%w: the secret is not 16-64 characters of a-z and 2-7", ErrBadCode)
	}
	if len(parts) == 4 {
		pin, err := b32.DecodeString(strings.ToLower(parts[3]))
		if err != nil || len(pin) != sha256.Size {
			return Code{}, fmt.Errorf("%w: the certificate pin is not a base32 SHA-256", ErrBadCode)
		}
		c.Pin = pin
	}
	return c, nil
}

func codeWord(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// SPKIPin is the SHA-256 of a certificate's SubjectPublicKeyInfo (as
// kubeadm's discovery hash and HPKP pin): it survives a renewal that keeps
// the key.
func SPKIPin(c *x509.Certificate) [32]byte { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }

// ErrPinMismatch means no certificate the collector presented has the
// code's pin.
var ErrPinMismatch = errors.New("the collector's certificate does not match the enrolment code's pin")

// PinnedCert returns the certificate of the presented chain whose SPKI
// has the pin.
func PinnedCert(state tls.ConnectionState, pin []byte) (*x509.Certificate, error) {
	for _, c := range state.PeerCertificates {
		p := SPKIPin(c)
		if subtle.ConstantTimeCompare(p[:], pin) == 1 {
			return c, nil
		}
	}
	return nil, ErrPinMismatch
}

// PinnedTLS is the client TLS config of a first contact: the chain is not
// checked against any root (the agent has none yet); instead some
// certificate of it must have the pin.
func PinnedTLS(pin []byte) *tls.Config {
	pin = bytes.Clone(pin)
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := PinnedCert(cs, pin)
			return err
		},
	}
}

// ReleaseMessage is what a release signature covers: the version, the
// platform and the file's SHA-256, so that a signed file cannot be
// offered as another version or for another platform.
func ReleaseMessage(version, goos, goarch string, sum []byte) []byte {
	return []byte("pantau-release-v1\n" + version + "\n" + goos + "/" + goarch + "\n" + hex.EncodeToString(sum) + "\n")
}

// MarshalPublicKey is an ed25519 public key as PEM (PKIX).
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal the public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPrivateKey is an ed25519 private key as PEM (PKCS #8).
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal the private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePublicKey reads an ed25519 public key from PEM (PKIX).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("no PEM \"PUBLIC KEY\" block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse the public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the public key is %T, not ed25519", k)
	}
	return pub, nil
}

// ParsePrivateKey reads an ed25519 private key from PEM (PKCS #8).
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse the private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T, not ed25519", k)
	}
	return priv, nil
}

// VerifyRelease checks a release's signature.
func VerifyRelease(pub ed25519.PublicKey, version, goos, goarch string, sum, sig []byte) error {
	if len(sum) != sha256.Size {
		return errors.New("the release hash is not a SHA-256")
	}
	if !ed25519.Verify(pub, ReleaseMessage(version, goos, goarch, sum), sig) {
		return fmt.Errorf("the signature of release %s for %s/%s does not verify with the configured public key", version, goos, goarch)
	}
	return nil
}
