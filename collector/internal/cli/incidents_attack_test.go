package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIncidentListUnknownFormat: an unknown --format is a usage error
// (exit 2, naming the flag), not a table printed as if all were well.
func TestIncidentListUnknownFormat(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, stdout, errOut := cli(t, "incident", "list", "--data-dir", data, "--format", "xml")
	if code != 2 || !strings.Contains(errOut, `--format "xml": want table or json`) || stdout != "" {
		t.Errorf("incident list --format xml: exit %d\nstdout %q\nstderr %s", code, stdout, errOut)
	}
}

// TestIncidentBadValuesExit2: a bad flag value (an unknown --category, a
// ticket over 200 bytes, an update that changes nothing) is a usage
// error, exit 2 naming the field, as a malformed flag is; an unknown
// record id stays exit 1.
func TestIncidentBadValuesExit2(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	add := []string{"incident", "add", "--data-dir", data, "--target", "pkm-wan", "--start", "2026-10-20T14:00", "--source", "tiket", "--officer", "Y"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{append(slices.Clone(add), "--category", "banjir"), 2, `category "banjir": want one of`},
		{append(slices.Clone(add), "--category", "dns", "--ticket", strings.Repeat("T", 300)), 2, "ticket is 300 bytes: at most 200"},
		{[]string{"incident", "update", "--data-dir", data, "--id", "7"}, 2, "nothing to change"},
		{[]string{"incident", "update", "--data-dir", data, "--id", "7", "--action", "x"}, 1, "no incident record with that id"},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s", c.args[1:3], code, c.code, c.want, errOut)
		}
	}
}
