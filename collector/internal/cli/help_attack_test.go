package cli

import (
	"strings"
	"testing"
)

// TestGroupHelp: --help on the incident and sla command groups prints
// their subcommands and exits 0 (it was "unknown subcommand", exit 2);
// a missing or unknown subcommand stays a usage error (exit 2).
func TestGroupHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"incident", "--help"}, 0, []string{"incident add --scope", "incident update --id", "incident list", "fo_putus"}},
		{[]string{"incident", "-h"}, 0, []string{"incident add --scope"}},
		{[]string{"sla", "--help"}, 0, []string{"sla rebuild --config", "sla mark-monitored --config", "sla monitored --config"}},
		{[]string{"incident"}, 2, []string{"missing subcommand"}},
		{[]string{"incident", "bogus"}, 2, []string{`unknown subcommand "bogus"`}},
		{[]string{"sla"}, 2, []string{"missing subcommand"}},
	} {
		code, _, errOut := cli(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, code, c.code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
	}
}
