package fleet

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/chacha20poly1305"
)

// Secret is a credential value: it prints and marshals as <secret>
// everywhere but in the sealed profile and the agent's config (Reveal).
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the value, for sealing and for the agent's config.
func (s Secret) Reveal() string { return string(s) }

// Profile is an SNMP credential profile: what every device of a site
// (or of the Pemda, site "*") that names the profile is polled with.
// Keys are the agent's SNMP target keys.
type Profile struct {
	Version        string `yaml:"version"` // "2c" or "3"
	Community      Secret `yaml:"community,omitempty"`
	Username       string `yaml:"username,omitempty"`
	SecurityLevel  string `yaml:"security_level,omitempty"` // noAuthNoPriv, authNoPriv, authPriv
	AuthProtocol   string `yaml:"auth_protocol,omitempty"`
	AuthPassphrase Secret `yaml:"auth_passphrase,omitempty"`
	PrivProtocol   string `yaml:"priv_protocol,omitempty"`
	PrivPassphrase Secret `yaml:"priv_passphrase,omitempty"`
	ContextName    string `yaml:"context_name,omitempty"`
}

// The values the agent's SNMP poller takes.
var (
	snmpVersions   = []string{"2c", "3"}
	securityLevels = []string{"noAuthNoPriv", "authNoPriv", "authPriv"}
	authProtocols  = []string{"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
	privProtocols  = []string{"DES", "AES", "AES192", "AES256", "AES192C", "AES256C"}
)

// maxSecret bounds one secret value.
const maxSecret = 1024

// Validate checks a profile and fills the v3 security level from what is
// given; it never quotes a secret.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for name, s := range map[string]Secret{"community": p.Community, "auth passphrase": p.AuthPassphrase, "priv passphrase": p.PrivPassphrase} {
		if len(s) > maxSecret {
			bad("%s: longer than %d bytes", name, maxSecret)
		}
		if bytes.ContainsAny([]byte(s), "\x00\n\r") {
			bad("%s: contains a NUL or line break", name)
		}
	}
	switch p.Version {
	case "2c":
		if p.Community == "" {
			bad("version 2c needs a community (--community-file)")
		}
		if p.Username != "" || p.AuthPassphrase != "" || p.PrivPassphrase != "" {
			bad("version 2c takes only a community; user and passphrases are for version 3")
		}
	case "3":
		if p.Community != "" {
			bad("version 3 takes no community")
		}
		if p.Username == "" {
			bad("version 3 needs a username (--username)")
		}
		if p.SecurityLevel == "" {
			switch {
			case p.PrivPassphrase != "":
				p.SecurityLevel = "authPriv"
			case p.AuthPassphrase != "":
				p.SecurityLevel = "authNoPriv"
			default:
				p.SecurityLevel = "noAuthNoPriv"
			}
		}
		if !slices.Contains(securityLevels, p.SecurityLevel) {
			bad("security level %q: must be one of %q", p.SecurityLevel, securityLevels)
		}
		needAuth := p.SecurityLevel != "noAuthNoPriv"
		needPriv := p.SecurityLevel == "authPriv"
		if needAuth && p.AuthPassphrase == "" {
			bad("security level %s needs an auth passphrase (--auth-passphrase-file)", p.SecurityLevel)
		}
		if needPriv && p.PrivPassphrase == "" {
			bad("security level %s needs a priv passphrase (--priv-passphrase-file)", p.SecurityLevel)
		}
		if !needAuth && (p.AuthPassphrase != "" || p.AuthProtocol != "") {
			bad("security level noAuthNoPriv takes no auth passphrase or protocol")
		}
		if !needPriv && (p.PrivPassphrase != "" || p.PrivProtocol != "") {
			bad("security level %s takes no priv passphrase or protocol", p.SecurityLevel)
		}
		if p.AuthProtocol != "" && !slices.Contains(authProtocols, p.AuthProtocol) {
			bad("auth protocol %q: must be one of %q", p.AuthProtocol, authProtocols)
		}
		if p.PrivProtocol != "" && !slices.Contains(privProtocols, p.PrivProtocol) {
			bad("priv protocol %q: must be one of %q", p.PrivProtocol, privProtocols)
		}
	default:
		bad("version %q: must be one of %q", p.Version, snmpVersions)
	}
	return errors.Join(errs...)
}

// marshal encodes the profile for sealing.
func (p *Profile) marshal() ([]byte, error) {
	type plain struct {
		Version        string `yaml:"version"`
		Community      string `yaml:"community,omitempty"`
		Username       string `yaml:"username,omitempty"`
		SecurityLevel  string `yaml:"security_level,omitempty"`
		AuthProtocol   string `yaml:"auth_protocol,omitempty"`
		AuthPassphrase string `yaml:"auth_passphrase,omitempty"`
		PrivProtocol   string `yaml:"priv_protocol,omitempty"`
		PrivPassphrase string `yaml:"priv_passphrase,omitempty"`
		ContextName    string `yaml:"context_name,omitempty"`
	}
	return yaml.Marshal(plain{p.Version, p.Community.Reveal(), p.Username, p.SecurityLevel, p.AuthProtocol,
		p.AuthPassphrase.Reveal(), p.PrivProtocol, p.PrivPassphrase.Reveal(), p.ContextName})
}

// ParseProfile decodes a profile strictly (unknown keys are errors) and
// validates it. Errors never quote a secret.
func ParseProfile(data []byte) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		// yaml errors may quote values: say only where.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("credential profile: %d decoding problem(s) (unknown key or wrong type)", len(te.Errors))
		}
		return nil, errors.New("credential profile: not valid YAML")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("credential profile: %w", err)
	}
	return &p, nil
}

// KeySize is the size of a credentials key file.
const KeySize = chacha20poly1305.KeySize

// ErrWrongKey is a sealed profile the key file cannot open: another key,
// or the profile was altered.
var ErrWrongKey = errors.New("cannot open the credential profile with this key")

// Keyring seals and opens credential profiles with the key of one file.
type Keyring struct {
	file string
	key  []byte
}

// LoadKey reads the credentials key file. With create, a missing file is
// created with 32 random bytes, mode 0600 (the CLI's first use).
func LoadKey(file string, create bool) (*Keyring, error) {
	key, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate credentials key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("create credentials key %s: %w", file, err)
		}
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create credentials key %s: %w", file, err)
		}
		_, werr := f.Write(key)
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(file)
			return nil, fmt.Errorf("write credentials key %s: %w", file, err)
		}
		return &Keyring{file: file, key: key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credentials key %s: %w (create one with: pantau-collector credentials set ..., or set --credentials-key-file)", file, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("credentials key %s: holds %d bytes, want %d random bytes", file, len(key), KeySize)
	}
	return &Keyring{file: file, key: key}, nil
}

// File is the key file's path.
func (k *Keyring) File() string { return k.file }

// aad binds a sealed profile to its site and name: a profile copied to
// another site or name does not open.
func aad(site, name string) []byte { return []byte(site + "/" + name) }

// Seal validates and seals a profile for site and name: nonce||ciphertext.
func (k *Keyring) Seal(site, name string, p *Profile) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("credential profile %s/%s: %w", site, name, err)
	}
	plain, err := p.marshal()
	if err != nil {
		return nil, fmt.Errorf("encode credential profile %s/%s: %w", site, name, err)
	}
	aead, err := chacha20poly1305.NewX(k.key)
	if err != nil {
		return nil, fmt.Errorf("credentials key %s: %w", k.file, err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, aad(site, name)), nil
}

// Open opens a profile sealed for site and name.
func (k *Keyring) Open(site, name string, sealed []byte) (*Profile, error) {
	aead, err := chacha20poly1305.NewX(k.key)
	if err != nil {
		return nil, fmt.Errorf("credentials key %s: %w", k.file, err)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("credential profile %s/%s: %w: too short", site, name, ErrWrongKey)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad(site, name))
	if err != nil {
		return nil, fmt.Errorf("credential profile %s/%s: %w %s (was it sealed with another key file, or altered?)", site, name, ErrWrongKey, k.file)
	}
	p, err := ParseProfile(plain)
	if err != nil {
		return nil, fmt.Errorf("credential profile %s/%s: %w", site, name, err)
	}
	return p, nil
}

// profileNameRE is a profile's name (and a site's id, or "*").
var profileNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidProfileRef checks a site ("*" for the Pemda) and profile name.
func ValidProfileRef(site, name string) error {
	if site != PemdaWide && !profileNameRE.MatchString(site) {
		return fmt.Errorf("site %q: use an inventory site id or * (every site)", site)
	}
	if !profileNameRE.MatchString(name) {
		return fmt.Errorf("profile %q: use 1-64 lowercase letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

// PemdaWide is the site of a profile every site uses unless it has its own.
const PemdaWide = "*"
