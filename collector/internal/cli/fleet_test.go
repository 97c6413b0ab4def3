package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/fleet"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

type memCreds struct{ m map[[2]string][]byte }

func (c *memCreds) PutCredentialProfile(_ context.Context, site, name string, sealed []byte, _ string) error {
	c.m[[2]string{site, name}] = sealed
	return nil
}
func (c *memCreds) CredentialProfile(_ context.Context, site, name string) ([]byte, bool, error) {
	s, ok := c.m[[2]string{site, name}]
	return s, ok, nil
}
func (c *memCreds) ListCredentialProfiles(context.Context) ([]fleet.CredentialProfileInfo, error) {
	var out []fleet.CredentialProfileInfo
	for k := range c.m {
		out = append(out, fleet.CredentialProfileInfo{Site: k[0], Name: k[1]})
	}
	return out, nil
}
func (c *memCreds) DeleteCredentialProfile(_ context.Context, site, name, _ string) error {
	delete(c.m, [2]string{site, name})
	return nil
}

func TestCredentialsSetListNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	comm := filepath.Join(dir, "community")
	os.WriteFile(comm, []byte("sangat-rahasia\n"), 0o600)
	o := credentialFlags{site: "kec-a", profile: "default", version: "2c", communityFile: comm}
	p, err := o.profileOf()
	if err != nil {
		t.Fatal(err)
	}
	store := &memCreds{m: map[[2]string][]byte{}}
	keyFile := filepath.Join(dir, "credentials.key")
	var out, errb bytes.Buffer
	ctx := context.Background()
	if err := runCredentials(ctx, store, keyFile, "set", o, p, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if err := runCredentials(ctx, store, keyFile, "list", o, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String()+errb.String(), "sangat-rahasia") || !strings.Contains(out.String(), "kec-a") {
		t.Errorf("output:\n%s%s", out.String(), errb.String())
	}
	k, err := fleet.LoadKey(keyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Open("kec-a", "default", store.m[[2]string{"kec-a", "default"}])
	if err != nil || got.Community.Reveal() != "sangat-rahasia" {
		t.Errorf("stored profile %v %v", got, err)
	}
	// No community file: a usage error naming the flag.
	if _, err := (&credentialFlags{version: "2c"}).profileOf(); err == nil || !strings.Contains(err.Error(), "--community-file") {
		t.Errorf("missing community: %v", err)
	}
}

func TestReleaseKeygenAndSign(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Main(context.Background(), Options{}, []string{"release", "keygen", "--out-dir", filepath.Join(dir, "keys")}, &out, &errb); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	priv := filepath.Join(dir, "keys", fleet.PrivateKeyFile)
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key %v %v", fi, err)
	}
	if code := Main(context.Background(), Options{}, []string{"release", "keygen", "--out-dir", filepath.Join(dir, "keys")}, &out, &errb); code != 1 {
		t.Errorf("keygen over an existing key: %d", code)
	}
	bin := filepath.Join(dir, "pantau-agent")
	os.WriteFile(bin, []byte("binary"), 0o755)
	data := filepath.Join(dir, "data")
	if code := Main(context.Background(), Options{}, []string{"release", "sign", "--key", priv, "--binary", bin, "--version", "1.4.0",
		"--os", "linux", "--arch", "arm64", "--data-dir", data}, &out, &errb); code != 0 {
		t.Fatalf("sign: %d %s", code, errb.String())
	}
	m, err := fleet.NewReleases(filepath.Join(data, "releases")).Newest("linux", "arm64", time.Now())
	if err != nil || m == nil || m.Version != "1.4.0" {
		t.Fatalf("release store: %+v %v", m, err)
	}
	pb, _ := os.ReadFile(filepath.Join(dir, "keys", fleet.PublicKeyFile))
	pub, err := fleetproto.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	if err := fleetproto.VerifyRelease(pub, "1.4.0", "linux", "arm64", m.Sum(), m.Signature); err != nil {
		t.Error(err)
	}
}
