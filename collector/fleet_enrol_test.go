package collector

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/testbuild"
	"github.com/pantau-noc/pantau/internal/testproc"
)

// writeCert writes a self-signed certificate and its key into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pantau-collector"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestIntegrationEnrolPinned: real processes. `pantau-collector enroll
// create` makes a code whose pin is the served certificate's: a box
// that trusts nothing but the pin reaches the running collector over
// TLS, trades the code for its token and writes with it; a client with
// another pin is refused at the handshake; the code does not work twice;
// `agents` and `audit list` show the enrolment while the daemon runs.
func TestIntegrationEnrolPinned(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs a collector process")
	}
	t.Parallel()
	bin := testbuild.Collector(t)
	dir, dataDir := t.TempDir(), t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte("sites: [{id: kec-a, name: Kecamatan A, kind: district}]\nlinks: [{id: kec-a-vsat, site: kec-a, icmp: {target: 127.0.0.2}}]\n"), 0o644)
	addr := testproc.FreePort(t)
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("listen_address: %s\ndata_dir: %s\ninventory: %s\ntls: {cert_file: %s, key_file: %s}\n",
		addr, dataDir, inv, certFile, keyFile)), 0o644)
	run := func(args ...string) (string, string) {
		t.Helper()
		var o, e bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String()
	}
	out, _ := run("enroll", "create", "--config", cfg, "--site", "kec-a", "--collector-url", "https://"+addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	code, err := fleetproto.ParseCode(lines[0])
	if err != nil || len(code.Pin) != 32 || !strings.Contains(lines[1], "--collector https://"+addr) {
		t.Fatalf("enroll create: %v\n%s", err, out)
	}

	p := testproc.Launch(t, bin, "--config", cfg)
	box := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: fleetproto.PinnedTLS(code.Pin)}}
	base := "https://" + addr
	testproc.WaitFor(t, 60*time.Second, "collector ready over TLS", func() bool {
		if !testproc.Alive(p.Cmd.Process.Pid) {
			t.Fatalf("collector exited:\n%s", p.Logs)
		}
		res, err := box.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	wrong := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: fleetproto.PinnedTLS(make([]byte, 32))}}
	if _, err := wrong.Get(base + "/readyz"); err == nil || !errors.Is(err, fleetproto.ErrPinMismatch) && !strings.Contains(err.Error(), "pin") {
		t.Fatalf("another pin: %v", err)
	}

	enrol := func() (int, []byte) {
		b, _ := json.Marshal(fleetproto.EnrollRequest{Code: code.String(), Agent: "kec-a-1", Hostname: "box-kec-a", Version: "1.0.0"})
		res, err := box.Post(base+fleetproto.EnrollPath, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	st, body := enrol()
	var got fleetproto.EnrollResponse
	if st != 200 || json.Unmarshal(body, &got) != nil || got.Agent != "kec-a-1" || got.Site != "kec-a" {
		t.Fatalf("enrol: %d %s", st, body)
	}
	line := fmt.Sprintf("icmp,target=127.0.0.2 packets_sent=5u,packets_received=5u,loss_ratio=0,rtt_avg_seconds=0.01,up=1i %d\n", time.Now().Unix())
	req, _ := http.NewRequest("POST", base+"/api/v2/write?precision=s", strings.NewReader(line))
	req.Header.Set("Authorization", "Token "+got.Token)
	res, err := box.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("write with the enrolled token: %d", res.StatusCode)
	}
	if st, body := enrol(); st != http.StatusUnauthorized || !strings.Contains(string(body), "enrolment code unknown, used or expired") {
		t.Fatalf("the code again: %d %s", st, body)
	}
	if out, _ := run("agents", "--config", cfg); !strings.Contains(out, "kec-a-1") || !strings.Contains(out, "not managed (1 token(s)") {
		t.Errorf("agents:\n%s", out)
	}
	out, _ = run("audit", "list", "--config", cfg)
	if !strings.Contains(out, "redeemed: agent kec-a-1, site kec-a") || !strings.Contains(out, "refused (used)") || strings.Contains(out, code.Secret) {
		t.Errorf("audit:\n%s", out)
	}
	out, _ = run("enroll", "list", "--config", cfg)
	if !strings.Contains(out, "used ") || strings.Contains(out, code.Secret) {
		t.Errorf("enroll list:\n%s", out)
	}
}
