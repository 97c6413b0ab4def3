package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// The default storage rules validate and speak Bahasa Indonesia by
// default and English with lang: en, firing and resolved.
func TestStorageRulesMessages(t *testing.T) {
	c := DefaultConfig()
	var probs yamlconf.Problems
	c.Validate(&probs, "alerting", nil)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule, lang  string
		resolved    bool
		title, text string
	}{
		{"StorageDataSetAside", "id", false, "Kolektor menyisihkan berkas", "131072 byte"},
		{"StorageDataSetAside", "en", false, "set aside damaged storage files", "131072 bytes"},
		{"StorageDataSetAside", "id", true, "PULIH", ""},
		{"StorageWriteFailed", "id", false, "penyimpanan gagal (wal_write)", "503"},
		{"StorageWriteFailed", "en", true, "RESOLVED", "503"},
	} {
		var r *Rule
		for i := range c.Rules {
			if c.Rules[i].Name == tc.rule {
				r = &c.Rules[i]
			}
		}
		if r == nil {
			t.Fatalf("no default rule %s", tc.rule)
		}
		a := &Alert{Rule: r.Name, Kind: r.Kind, Severity: r.Severity, Labels: map[string]string{"kind": "wal_write"}, Value: 131072,
			ActiveAt: time.Now(), LastTrue: time.Now()}
		m := render(r, &messageData{Alert: a, Lang: tc.lang, Resolved: tc.resolved, Zone: time.UTC})
		if !strings.Contains(m.Title, tc.title) || !strings.Contains(m.Text, tc.text) {
			t.Errorf("%s %s resolved=%v:\n%s\n%s", tc.rule, tc.lang, tc.resolved, m.Title, m.Text)
		}
	}
}
