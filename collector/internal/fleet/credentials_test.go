package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCredentialsRoundTrip(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "credentials.key")
	k, err := LoadKey(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
		t.Fatalf("key file %v %v", fi, err)
	}
	p := &Profile{Version: "3", Username: "noc", AuthProtocol: "SHA256", AuthPassphrase: "auth-secret-1", PrivProtocol: "AES", PrivPassphrase: "priv-secret-1"}
	sealed, err := k.Seal("kec-a", "default", p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) || bytes.Contains(sealed, []byte("noc")) {
		t.Fatal("the sealed profile holds plain text")
	}
	k2, err := LoadKey(file, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k2.Open("kec-a", "default", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *p || got.SecurityLevel != "authPriv" {
		t.Errorf("opened %+v, want %+v", got, p)
	}
	// Printing a profile never shows a secret.
	for _, s := range []string{fmt.Sprint(got), fmt.Sprintf("%+v", got), fmt.Sprintf("%#v", got)} {
		if strings.Contains(s, "secret-1") {
			t.Errorf("printed a secret: %s", s)
		}
	}
}

func TestCredentialsWrongKeyAndTamper(t *testing.T) {
	dir := t.TempDir()
	k, _ := LoadKey(filepath.Join(dir, "a.key"), true)
	other, _ := LoadKey(filepath.Join(dir, "b.key"), true)
	sealed, err := k.Seal("kec-a", "default", &Profile{Version: "2c", Community: "public-ish"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Open("kec-a", "default", sealed)
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), filepath.Join(dir, "b.key")) {
		t.Errorf("wrong key: %v (want ErrWrongKey naming the key file)", err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := k.Open("kec-a", "default", bad); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("byte %d altered: %v", i, err)
		}
	}
	// Bound to its site and name (AAD).
	if _, err := k.Open("kec-b", "default", sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("opened under another site: %v", err)
	}
	if _, err := k.Open("kec-a", "other", sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("opened under another name: %v", err)
	}
	if _, err := k.Open("kec-a", "default", sealed[:10]); !errors.Is(err, ErrWrongKey) {
		t.Errorf("short: %v", err)
	}
	// A key file of the wrong size, or a missing one without create.
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("0123"), 0o600)
	if _, err := LoadKey(short, false); err == nil || !strings.Contains(err.Error(), short) {
		t.Errorf("short key: %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "none.key"), false); err == nil || !strings.Contains(err.Error(), "none.key") {
		t.Errorf("missing key: %v", err)
	}
}

func TestProfileValidate(t *testing.T) {
	for _, tc := range []struct {
		p   Profile
		err string
	}{
		{Profile{Version: "2c", Community: "c"}, ""},
		{Profile{Version: "2c"}, "needs a community"},
		{Profile{Version: "2c", Community: "c", Username: "u"}, "takes only a community"},
		{Profile{Version: "3", Username: "u"}, ""},
		{Profile{Version: "3", Username: "u", SecurityLevel: "authPriv", AuthPassphrase: "a"}, "needs a priv passphrase"},
		{Profile{Version: "3", Username: "u", AuthPassphrase: "a", AuthProtocol: "SHA1"}, `auth protocol "SHA1"`},
		{Profile{Version: "1", Community: "c"}, `version "1"`},
		{Profile{Version: "2c", Community: "a\nb"}, "line break"},
	} {
		err := tc.p.Validate()
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.err)
		}
		if err != nil && (strings.Contains(err.Error(), "a\nb") || strings.Contains(err.Error(), `"a"`)) {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte("version: \"2c\"\ncommunity: public\n"))
	f.Add([]byte("version: \"3\"\nusername: noc\nauth_passphrase: aaaaaaaa\nauth_protocol: SHA\n"))
	f.Add([]byte("version: 3\nbogus: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			return
		}
		// A valid profile survives sealing and opening.
		k := &Keyring{file: "mem", key: make([]byte, KeySize)}
		sealed, err := k.Seal("s", "n", p)
		if err != nil {
			t.Fatalf("seal a valid profile: %v", err)
		}
		q, err := k.Open("s", "n", sealed)
		if err != nil || *q != *p {
			t.Fatalf("round trip: %+v %v, want %+v", q, err, p)
		}
	})
}
