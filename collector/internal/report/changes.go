package report

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Change is one row of the change record (catatan perubahan): a change
// to the collector's records in the period, from the audit log.
type Change struct {
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"` // token, user, anonymous or cli
	ActorID   string    `json:"actor_id"`
	Actor     string    `json:"actor"` // the credential's or user's name
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Summary   string    `json:"summary"`
}

// changeRecord fills the report's change record: the audit log's rows of
// the period, oldest first, in the report's reference zone. The audit log
// does not say which OPD a changed object belongs to (tokens, users and
// the inventory belong to none, and a deleted window cannot be looked
// up), so the change record is in whole-Pemda reports for unscoped
// readers only; other reports say where to find it.
func changeRecord(ctx context.Context, r *Report, src AuditSource, p sla.Period, o Options) error {
	if src == nil {
		return nil
	}
	if o.OPD != "" || len(o.OPDs) > 0 || o.Site != "" || len(o.Reader) > 0 {
		r.ChangesNote = T(r.Lang, "changes.pemda_only")
		return nil
	}
	// Every row of the period: a report is a record, not a page of one.
	rows, err := src.Audit(ctx, statedb.AuditFilter{Since: p.Start, Until: p.End, Limit: math.MaxInt32})
	if err != nil {
		return err
	}
	r.Changes = make([]Change, 0, len(rows))
	for _, e := range slices.Backward(rows) {
		r.Changes = append(r.Changes, Change{
			At: e.At.In(o.Zone), ActorKind: e.ActorKind, ActorID: e.ActorID, Actor: e.ActorName,
			Action: e.Action, Object: e.Object, Summary: e.Summary,
		})
	}
	return nil
}

// readerRecords keeps the reviews of the reader's OPDs and their
// follow-ups: a review of the whole Pemda (no scope) or of another OPD
// may name any OPD's sites, and a follow-up without a review belongs to
// none. scope maps every review id to its scope (follow-ups carried over
// belong to reviews of earlier periods).
func readerRecords(reviews []statedb.Review, fus []statedb.FollowUp, scope map[int64]string, opds []string) ([]statedb.Review, []statedb.FollowUp) {
	outR := []statedb.Review{}
	for _, v := range reviews {
		if slices.Contains(opds, v.Scope) {
			outR = append(outR, v)
		}
	}
	outF := []statedb.FollowUp{}
	for _, f := range fus {
		if sc, ok := scope[f.ReviewID]; ok && slices.Contains(opds, sc) {
			outF = append(outF, f)
		}
	}
	return outR, outF
}

// opdName is an OPD's name: its `opds:` entry's in the inventory, else
// that of its site with the OPD's id, else the id.
func opdName(inv *inventory.Inventory, opd string) string {
	if n := inv.OPDName(opd); n != "" {
		return n
	}
	if s := inv.Site(opd); s != nil {
		return s.Name
	}
	return opd
}
