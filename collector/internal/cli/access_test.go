package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestUserCommands: user add reads the password from a file and never
// prints it; the user authenticates with it; list shows it without the
// hash; disable locks it out; each change is in the audit log.
func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const pw = "kata-sandi-yang-panjang-9"
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(pw+"\r\nsecond line ignored\n"), 0o600)

	code, stdout, stderr := cli(t, "user", "add", "--data-dir", data, "--name", "ani", "--role", "operator", "--opd", "dinkes", "--opd", "bappeda",
		"--expires", "90d", "--password-file", pwFile)
	if code != 0 || !strings.Contains(stdout, "added operator user ani (OPD dinkes, bappeda)") {
		t.Fatalf("user add: %d %s %s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, pw) || strings.Contains(stderr, "warning") {
		t.Errorf("user add printed the password or warned: %s %s", stdout, stderr)
	}
	if code, _, stderr := cli(t, "user", "add", "--data-dir", data, "--name", "ani", "--role", "viewer", "--password-file", pwFile); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("duplicate: %d %s", code, stderr)
	}

	ctx := context.Background()
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := statedb.NewAuthenticator(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := authn.AuthenticateUser(ctx, "ani", pw)
	if err != nil || id.Role != "operator" || strings.Join(id.OPDs, ",") != "dinkes,bappeda" {
		t.Fatalf("the added user does not log in: %+v %v", id, err)
	}
	if _, err := authn.AuthenticateUser(ctx, "ani", pw+"\r"); err == nil {
		t.Error("the line ending became part of the password")
	}
	db.Close()

	code, stdout, _ = cli(t, "user", "list", "--data-dir", data)
	if code != 0 || !strings.Contains(stdout, "ani") || !strings.Contains(stdout, "dinkes,bappeda") || !strings.Contains(stdout, "active until") ||
		strings.Contains(stdout, "argon2") {
		t.Errorf("user list: %d\n%s", code, stdout)
	}
	if code, stdout, stderr := cli(t, "user", "disable", "--data-dir", data, "--name", "ani"); code != 0 || !strings.Contains(stdout, "disabled user ani") {
		t.Fatalf("disable: %d %s %s", code, stdout, stderr)
	}
	_, stdout, _ = cli(t, "user", "list", "--data-dir", data, "--format", "json")
	var users []struct{ Name, State string }
	if err := json.Unmarshal([]byte(stdout), &users); err != nil || len(users) != 1 || users[0].State != "disabled" {
		t.Errorf("user list json: %v %s", err, stdout)
	}
	if code, _, stderr := cli(t, "user", "disable", "--data-dir", data, "--name", "nobody"); code != 1 || !strings.Contains(stderr, "no such user") {
		t.Errorf("disable unknown: %d %s", code, stderr)
	}

	db, _ = statedb.Open(ctx, data)
	defer db.Close()
	authn, _ = statedb.NewAuthenticator(ctx, db, nil)
	if _, err := authn.AuthenticateUser(ctx, "ani", pw); err == nil {
		t.Error("a disabled user still logs in")
	}
	rows, _ := db.Audit(ctx, statedb.AuditFilter{})
	if len(rows) != 2 || rows[0].Action != "cli user disable" || rows[1].Action != "cli user add" || rows[1].Object != "user/ani" ||
		rows[0].ActorKind != "cli" || !strings.Contains(rows[1].Summary, "operator user ani") {
		t.Errorf("audit rows: %+v", rows)
	}
	for _, r := range rows {
		if strings.Contains(r.Summary, pw) {
			t.Errorf("password in the audit log: %+v", r)
		}
	}
}

// TestUserAddRefusals: bad flags are usage errors naming the flag; a
// world-readable password file is warned about; an empty one refused;
// a short password refused without echoing it.
func TestUserAddRefusals(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("a-long-enough-password\n"), 0o600)
	os.Chmod(open, 0o644)
	code, _, stderr := cli(t, "user", "add", "--data-dir", data, "--name", "budi", "--role", "viewer", "--password-file", open)
	if code != 0 || !strings.Contains(stderr, "warning: "+open+" can be read by every user") || strings.Contains(stderr, "a-long-enough") {
		t.Errorf("world-readable file: %d %s", code, stderr)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("pendek\n"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--name", "c", "--role", "viewer", "--password-file", empty}, 1, "is empty"},
		{[]string{"--name", "c", "--role", "viewer", "--password-file", short}, 1, "password too short"},
		{[]string{"--name", "c", "--role", "viewer", "--password-file", filepath.Join(dir, "none")}, 1, "no such file"},
		{[]string{"--name", "c", "--role", "root", "--password-file", open}, 1, "invalid role"},
		{[]string{"--name", "c", "--password-file", open}, 2, "--role is required"},
		{[]string{"--role", "viewer", "--password-file", open}, 2, "--name is required"},
		{[]string{"--name", "c", "--role", "viewer"}, 2, "--password-file is required"},
		{[]string{"--name", "c", "--role", "viewer", "--expires", "yesterday", "--password-file", open}, 2, "--expires"},
	} {
		code, _, stderr := cli(t, append([]string{"user", "add", "--data-dir", data}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "pendek") {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
	}
	if code, _, stderr := cli(t, "user", "add", "--help"); code != 0 || !strings.Contains(stderr, "argon2id") || !strings.Contains(stderr, "-password-file") {
		t.Errorf("user add --help: %d %s", code, stderr)
	}
	if code, _, _ := cli(t, "user"); code != 2 {
		t.Errorf("user without subcommand: %d", code)
	}
}

// TestAuditCommand: audit list selects by time and count, in table and
// JSON; bad values are usage errors naming the flag.
func TestAuditCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	db, err := statedb.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range []string{"2026-11-30T23:00:00Z", "2026-12-01T01:00:00Z", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"} {
		ts, _ := time.Parse(time.RFC3339, at)
		db.AddAudit(ctx, statedb.AuditEntry{At: ts, ActorKind: "token", ActorID: "abc", ActorName: "root", Source: "10.0.0.9",
			Action: "PUT /api/v1/inventory", Object: "inventory", Summary: "sites 1 → " + string(rune('2'+i)) + "\nsecond line"})
	}
	db.Close()
	code, stdout, stderr := cli(t, "audit", "list", "--data-dir", data, "--since", "2026-12-01", "--until", "2026-12-31")
	if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, "token root (abc)") || !strings.Contains(stdout, "sites 1 → 4 second line") ||
		strings.Contains(stdout, "sites 1 → 2") {
		t.Errorf("audit list December: %d\n%s%s", code, stdout, stderr)
	}
	_, stdout, _ = cli(t, "audit", "list", "--data-dir", data, "--limit", "1", "--format", "json")
	var rows []statedb.AuditEntry
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil || len(rows) != 1 || !strings.HasPrefix(rows[0].Summary, "sites 1 → 5") {
		t.Errorf("audit list json: %v %s", err, stdout)
	}
	for flagName, args := range map[string][]string{
		"--since": {"--since", "last week"}, "--until": {"--until", "2026-12-32"}, "--limit": {"--limit", "10001"}, "--format": {"--format", "xml"},
	} {
		code, _, stderr := cli(t, append([]string{"audit", "list", "--data-dir", data}, args...)...)
		if code != 2 || !strings.Contains(stderr, flagName+":") {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
	if code, _, stderr := cli(t, "audit", "list", "--help"); code != 0 || !strings.Contains(stderr, "who") {
		t.Errorf("audit list --help: %d %s", code, stderr)
	}
	if code, out, _ := cli(t, "--help"); code != 0 || !strings.Contains(out, "user add") || !strings.Contains(out, "audit list") {
		t.Errorf("--help lacks the user and audit commands: %s", out)
	}
}
