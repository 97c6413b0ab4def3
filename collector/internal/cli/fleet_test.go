package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// selfSigned writes a certificate and key and returns the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile, cert
}

// TestEnrollCommands: create prints a code carrying the certificate's
// pin and the command for the box; the code redeems once; list shows
// its state without the secret; revoke works on unused codes only.
func TestEnrollCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	certFile, keyFile, cert := selfSigned(t, dir)
	inv := filepath.Join(dir, "inventory.yml")
	os.WriteFile(inv, []byte("sites:\n  - {id: kec-a, name: Kecamatan A, kind: district, timezone: WIT}\nlinks:\n  - {id: kec-a-vsat, site: kec-a, icmp: {target: 127.0.0.2}}\n"), 0o600)
	cfg := filepath.Join(dir, "collector.yml")
	os.WriteFile(cfg, []byte("listen_address: 127.0.0.1:9810\ndata_dir: "+data+"\ninventory: "+inv+"\ntls:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+"\n"), 0o600)

	code, stdout, stderr := cli(t, "enroll", "create", "--config", cfg, "--site", "kec-a", "--agent", "kec-a-1", "--valid", "2h", "--collector-url", "https://pantau.example:9810")
	if code != 0 {
		t.Fatalf("enroll create: %d %s %s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || lines[1] != "pantau-agent enroll --collector https://pantau.example:9810 --code "+lines[0]+" --state-dir /var/lib/pantau-agent" {
		t.Fatalf("output:\n%s", stdout)
	}
	c, err := fleetproto.ParseCode(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	pin := fleetproto.SPKIPin(cert)
	if string(c.Pin) != string(pin[:]) {
		t.Fatal("the code does not carry the certificate's pin")
	}
	if strings.Contains(stderr, "warning") || !strings.Contains(stderr, "agent kec-a-1") {
		t.Fatalf("stderr: %s", stderr)
	}
	if code, _, stderr := cli(t, "enroll", "create", "--config", cfg, "--site", "nowhere"); code != 1 || !strings.Contains(stderr, "not in the inventory") {
		t.Fatalf("unknown site: %d %s", code, stderr)
	}
	if code, _, stderr := cli(t, "enroll", "create", "--config", cfg, "--site", "kec-a", "--valid", "31d"); code != 2 || !strings.Contains(stderr, "from 1 to 30") {
		t.Fatalf("too long: %d %s", code, stderr)
	}

	// Plain HTTP: no pin, and a warning.
	code, stdout, stderr = cli(t, "enroll", "create", "--data-dir", data, "--site", "kec-a")
	if code != 0 || !strings.Contains(stderr, "no certificate pin") || !strings.Contains(stderr, "guessed") || !strings.Contains(stdout, "--collector http://") {
		t.Fatalf("plain: %d %s %s", code, stdout, stderr)
	}
	plain, err := fleetproto.ParseCode(strings.Split(stdout, "\n")[0])
	if err != nil || plain.Pin != nil {
		t.Fatalf("plain code %+v %v", plain, err)
	}

	ctx := context.Background()
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RedeemEnrolment(ctx, c.ID, c.Secret, statedb.Redemption{Source: "127.0.0.1"}, statedb.AuditEntry{ActorKind: "enrolment"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, stdout, _ = cli(t, "enroll", "list", "--data-dir", data)
	if code != 0 || !strings.Contains(stdout, "used ") || !strings.Contains(stdout, "by kec-a-1 from 127.0.0.1") || !strings.Contains(stdout, "(box names itself)") ||
		strings.Contains(stdout, c.Secret) {
		t.Fatalf("list: %d\n%s", code, stdout)
	}
	if code, _, stderr := cli(t, "enroll", "revoke", c.ID, "--data-dir", data); code != 1 || !strings.Contains(stderr, "already used") {
		t.Fatalf("revoke used: %d %s", code, stderr)
	}
	if code, stdout, stderr := cli(t, "enroll", "revoke", "--data-dir", data, plain.ID); code != 0 || !strings.Contains(stdout, "revoked") {
		t.Fatalf("revoke: %d %s %s", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, "enroll", "list", "--data-dir", data, "--format", "json")
	var views []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &views) != nil || len(views) != 2 {
		t.Fatalf("json list: %d %s", code, stdout)
	}
	code, stdout, _ = cli(t, "audit", "list", "--data-dir", data)
	if code != 0 || !strings.Contains(stdout, "cli enroll create") || !strings.Contains(stdout, "cli enroll revoke") || !strings.Contains(stdout, "redeemed") {
		t.Fatalf("audit:\n%s", stdout)
	}
	if code, _, stderr := cli(t, "enroll", "--help"); code != 0 || !strings.Contains(stderr, "pantau-agent enroll --collector URL") {
		t.Fatalf("help: %d %s", code, stderr)
	}
}

// TestAgentsCommand: the fleet view from backdated fleet state, and a
// rotation request.
func TestAgentsCommand(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, a := range []statedb.FleetAgent{
		{Agent: "kec-a-1", Site: "kec-a", Version: "1.3.0", LastSeen: now.Add(-3 * time.Minute), ConfigOffered: "aaaaaaaaaaaa", ConfigApplied: "aaaaaaaaaaaa",
			ConfigStatus: "applied", Healthy: true, ClockOffsetSeconds: 12.5, QueuePoints: 120, QueueBytes: 4096, QueueOldestAgeSeconds: 90, UpdateState: "installed", UpdateVersion: "1.3.0"},
		{Agent: "kec-b-1", Site: "kec-b", Version: "1.2.0", LastSeen: now.Add(-2 * time.Hour), ConfigOffered: "bbbbbbbbbbbb", ConfigApplied: "aaaaaaaaaaaa",
			ConfigStatus: "failed", ConfigError: "icmp[0]: host missing", HealthStatus: "probing stopped"},
	} {
		if err := db.UpsertFleetAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := db.CreateToken(ctx, "kec-a-1", []string{"kec-a"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateToken(ctx, "old-box", []string{"kec-c"}, ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, stdout, stderr := cli(t, "agents", "--data-dir", data)
	if code != 0 {
		t.Fatalf("agents: %d %s", code, stderr)
	}
	for _, want := range []string{"AGENT", "kec-a-1", "1.3.0", "3m ago", "aaaaaaaa current", "120 points, 4.0 KiB, oldest 1m30s", "+12.5s", "installed 1.3.0",
		"kec-b-1", "2h ago", "aaaaaaaa, FAILED bbbbbbbb: icmp[0]: host missing", "unhealthy: probing stopped", "old-box", "kec-c", "not managed (1 token(s)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("fleet view lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = cli(t, "agents", "--data-dir", data, "--json")
	var rows []FleetRow
	if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 3 || rows[0].Fleet == nil || !rows[0].Fleet.ConfigCurrent || rows[2].Fleet != nil {
		t.Fatalf("json: %d %s", code, stdout)
	}
	if code, _, stderr := cli(t, "agents", "rotate", "--data-dir", data, "--agent", "kec-b-1"); code != 1 || !strings.Contains(stderr, "no active token") {
		t.Fatalf("rotate without token: %d %s", code, stderr)
	}
	if code, stdout, stderr := cli(t, "agents", "rotate", "--data-dir", data, "--agent", "kec-a-1"); code != 0 || !strings.Contains(stdout, "rotation of agent kec-a-1") {
		t.Fatalf("rotate: %d %s %s", code, stdout, stderr)
	}
	if _, stdout, _ := cli(t, "agents", "--data-dir", data); !strings.Contains(stdout, "rotation pending") {
		t.Fatalf("no pending rotation shown:\n%s", stdout)
	}
}

// TestFleetOverrideCommands: set checks the YAML; show prints it; clear
// removes it; the audit log has size and hash, not the text.
func TestFleetOverrideCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	good := filepath.Join(dir, "good.yml")
	os.WriteFile(good, []byte("snmp:\n  - name: core\n    community: rahasia-sekali\n"), 0o600)
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("collectors:\n  - url: http://x\n"), 0o600)
	if code, _, stderr := cli(t, "fleet", "override", "set", "--data-dir", data, "--agent", "a1", "--file", bad); code != 1 || !strings.Contains(stderr, "may set only") {
		t.Fatalf("bad: %d %s", code, stderr)
	}
	if code, stdout, stderr := cli(t, "fleet", "override", "set", "--data-dir", data, "--agent", "a1", "--file", good); code != 0 || !strings.Contains(stdout, "stored") {
		t.Fatalf("set: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := cli(t, "fleet", "override", "show", "--data-dir", data, "--agent", "a1"); code != 0 || !strings.Contains(stdout, "name: core") {
		t.Fatalf("show: %d %s", code, stdout)
	}
	if code, _, _ := cli(t, "fleet", "override", "clear", "--data-dir", data, "--agent", "a1"); code != 0 {
		t.Fatalf("clear: %d", code)
	}
	if code, _, stderr := cli(t, "fleet", "override", "show", "--data-dir", data, "--agent", "a1"); code != 1 || !strings.Contains(stderr, "no override") {
		t.Fatalf("show after clear: %d %s", code, stderr)
	}
	_, stdout, _ := cli(t, "audit", "list", "--data-dir", data)
	if !strings.Contains(stdout, "cli fleet override set") || !strings.Contains(stdout, "cli fleet override clear") || strings.Contains(stdout, "rahasia") {
		t.Fatalf("audit:\n%s", stdout)
	}
	if code, _, stderr := cli(t, "fleet", "--help"); code != 0 || !strings.Contains(stderr, "fleet override set") {
		t.Fatalf("help: %d %s", code, stderr)
	}
	if code, _, _ := cli(t, "fleet", "override", "set", "--data-dir", data, "--agent", "a1"); code != 2 {
		t.Fatalf("no file: %d", code)
	}
}
