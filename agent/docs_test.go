package agent

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/agent/internal/config"
)

// TestReadmeAgentConfig: the agent.yml of the README's quick start is
// valid, and so is the reference config once its secrets exist.
func TestReadmeAgentConfig(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)cat > agent\.yml <<'YAML'\n(.*?)\nYAML\n`).FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no agent.yml quick start")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "agent.token"), []byte("pantau_x\n"), 0o600)
	cfg, err := config.Parse(filepath.Join(dir, "agent.yml"), m[1])
	if err != nil {
		t.Fatalf("README agent.yml: %v", err)
	}
	if len(cfg.ICMP) != 1 || len(cfg.SNMP) != 1 || len(cfg.Collectors) != 1 {
		t.Fatalf("README agent.yml: %+v", cfg)
	}
	for _, cmd := range []string{"pantau-agent check-config", "pantau-agent probe --config agent.yml --once", "pantau-agent run --config"} {
		if !strings.Contains(string(b), cmd) {
			t.Errorf("README does not show %q", cmd)
		}
	}
}

// TestReadmeProfilesConfig: the agent.yml of the README's radios and
// UPSes section is valid and gives its devices the profiles it says.
func TestReadmeProfilesConfig(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)cat > agent-desa\.yml <<'YAML'\n(.*?)\nYAML\n`).FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no agent-desa.yml in its radios and UPSes section")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "agent.token"), []byte("pantau_x\n"), 0o600)
	cfg, err := config.Parse(filepath.Join(dir, "agent-desa.yml"), m[1])
	if err != nil {
		t.Fatalf("README agent-desa.yml: %v", err)
	}
	if len(cfg.SNMP) != 2 || cfg.SNMP[0].Profile != "auto" || cfg.SNMP[1].Profile != "ups" {
		t.Fatalf("README agent-desa.yml snmp: %+v", cfg.SNMP)
	}
}
