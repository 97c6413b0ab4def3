package cli

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// TestRecordCommandsAudit: the record commands that change state.db
// (maintenance add and delete, silence add and expire, review add,
// followup add and update) each write an audit row naming the local
// user as a "cli" actor, the command and the object.
func TestRecordCommandsAudit(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"maintenance", "add", "--scope", "all", "--start", "2026-10-20T08:30", "--end", "2026-10-20T10:00", "--reason", "ganti UPS"},
		{"maintenance", "delete", "--id", "1"},
		{"silence", "add", "--match", "site=dinkes", "--author", "budi", "--reason", "ISP"},
		{"silence", "expire", "--id", "1"},
		{"review", "add", "--month", "2026-10", "--date", "2026-11-05", "--participants", "NOC", "--findings", "VSAT putus"},
		{"followup", "add", "--review", "1", "--opened", "2026-11-05", "--item", "Ganti modem", "--owner", "TIK"},
		{"followup", "update", "--id", "1", "--status", "selesai", "--date", "2026-11-20", "--evidence", "BA 12/XI"},
	} {
		if code, _, errOut := cli(t, append(args, "--data-dir", data)...); code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	db, err := statedb.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Audit(context.Background(), statedb.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rows)
	want := [][2]string{
		{"cli maintenance add", "maintenance/1"}, {"cli maintenance delete", "maintenance/1"},
		{"cli silence add", "silence/1"}, {"cli silence expire", "silence/1"},
		{"cli review add", "review/1"}, {"cli followup add", "followup/1"}, {"cli followup update", "followup/1"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Action != w[0] || r.Object != w[1] || r.ActorKind != "cli" || r.ActorName == "" || !strings.HasPrefix(r.Source, "local") {
			t.Errorf("row %d: %+v, want %s %s", i, r, w[0], w[1])
		}
	}
	if s := rows[1].Summary; !strings.Contains(s, `before: {"id":1,"scope":"all"`) || !strings.HasSuffix(s, "after: deleted") {
		t.Errorf("maintenance delete summary: %s", s)
	}
	if s := rows[6].Summary; !strings.Contains(s, `"status":"belum"`) || !strings.Contains(s, `"status":"selesai"`) {
		t.Errorf("followup update summary: %s", s)
	}
}
