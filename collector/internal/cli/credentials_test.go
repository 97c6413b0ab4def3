package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/fleet"
)

type credentialsMem struct{ m map[[2]string][]byte }

func (c *credentialsMem) PutCredentialProfile(_ context.Context, site, name string, sealed []byte, _ string) error {
	c.m[[2]string{site, name}] = sealed
	return nil
}
func (c *credentialsMem) CredentialProfile(_ context.Context, site, name string) ([]byte, bool, error) {
	s, ok := c.m[[2]string{site, name}]
	return s, ok, nil
}
func (c *credentialsMem) ListCredentialProfiles(context.Context) ([]fleet.CredentialProfileInfo, error) {
	var out []fleet.CredentialProfileInfo
	for k := range c.m {
		out = append(out, fleet.CredentialProfileInfo{Site: k[0], Name: k[1]})
	}
	return out, nil
}
func (c *credentialsMem) DeleteCredentialProfile(_ context.Context, site, name, _ string) error {
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
	store := &credentialsMem{m: map[[2]string][]byte{}}
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
