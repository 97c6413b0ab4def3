package config

import (
	"strings"
	"testing"
)

// TestReportCompletenessNaN: min_contract_completeness_pct: .nan passed
// the range check (every comparison with NaN is false), and no month was
// then ever "data tidak lengkap"; it is refused like any value outside
// (0, 100].
func TestReportCompletenessNaN(t *testing.T) {
	for _, v := range []string{".nan", ".inf", "-.inf", "0", "100.5"} {
		_, err := Parse("c.yml", []byte("report:\n  min_contract_completeness_pct: "+v+"\n"))
		if err == nil || !strings.Contains(err.Error(), "report.min_contract_completeness_pct: must be above 0 and at most 100") {
			t.Errorf("min_contract_completeness_pct: %s: %v, want the range error", v, err)
		}
	}
	if _, err := Parse("c.yml", []byte("report:\n  min_contract_completeness_pct: 99.5\n")); err != nil {
		t.Errorf("99.5: %v", err)
	}
}
