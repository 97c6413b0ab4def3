package cli

import (
	"path/filepath"
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
