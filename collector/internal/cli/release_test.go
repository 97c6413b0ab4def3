package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/fleet"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

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
