package report

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The indicator table in docs/spbe-report.md matches spbe.yml, section by
// section, so the document cannot drift from the data file.
func TestDocsIndicatorTable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/spbe-report.md")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evidence(LangEN)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		var names []string
		for _, in := range e.Indicators {
			names = append(names, fmt.Sprintf("%d %s", in.Number, in.Name))
		}
		cell := "| " + strings.Join(names, "; ") + " |"
		if !strings.Contains(string(doc), cell) {
			t.Errorf("docs/spbe-report.md has no row ending %q for section %s", cell, e.Section)
		}
	}
}
