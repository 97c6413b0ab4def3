package statedb

import (
	"context"
	"fmt"
	"time"
)

// Follow-up statuses (Bahasa Indonesia, as the SPBE team writes them).
const (
	StatusBelum   = "belum"   // not started
	StatusProses  = "proses"  // in progress
	StatusSelesai = "selesai" // done
)

// Review is one monthly review (reviu) meeting.
type Review struct {
	ID           int64  `json:"id"`
	Month        string `json:"month"`   // YYYY-MM reviewed
	HeldOn       string `json:"held_on"` // YYYY-MM-DD
	Scope        string `json:"scope,omitempty"`
	Participants string `json:"participants"`
	Findings     string `json:"findings"`
}

// FollowUp is one recommendation (tindak lanjut) and its status as of a
// date.
type FollowUp struct {
	ID       int64  `json:"id"`
	ReviewID int64  `json:"review_id,omitempty"`
	Opened   string `json:"opened"` // YYYY-MM-DD
	Item     string `json:"item"`
	Owner    string `json:"owner"`
	Due      string `json:"due,omitempty"`
	Status   string `json:"status"`
	Evidence string `json:"evidence,omitempty"`
	Updated  string `json:"updated"` // date of the status
}

func checkDate(what, s string) error {
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return fmt.Errorf("%s %q is not a date (YYYY-MM-DD)", what, s)
	}
	return nil
}

// AddReview records a review.
func (s *DB) AddReview(ctx context.Context, r Review, now time.Time) (int64, error) {
	if _, err := time.Parse("2006-01", r.Month); err != nil {
		return 0, fmt.Errorf("review month %q is not YYYY-MM", r.Month)
	}
	if err := checkDate("review date", r.HeldOn); err != nil {
		return 0, err
	}
	if r.Participants == "" || r.Findings == "" {
		return 0, fmt.Errorf("a review needs participants and findings")
	}
	res, err := s.sql.ExecContext(ctx, `INSERT INTO reviews (month, held_on, scope, participants, findings, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Month, r.HeldOn, r.Scope, r.Participants, r.Findings, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store review in %s: %w", s.path, err)
	}
	return res.LastInsertId()
}

// Reviews lists the reviews of months [from, to] (YYYY-MM, inclusive).
func (s *DB) Reviews(ctx context.Context, from, to string) ([]Review, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, month, held_on, scope, participants, findings FROM reviews
		WHERE month BETWEEN ? AND ? ORDER BY month, held_on, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read reviews from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var r Review
		if err := rows.Scan(&r.ID, &r.Month, &r.HeldOn, &r.Scope, &r.Participants, &r.Findings); err != nil {
			return nil, fmt.Errorf("read reviews from %s: %w", s.path, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddFollowUp opens a recommendation with status belum (or the given one).
func (s *DB) AddFollowUp(ctx context.Context, f FollowUp, now time.Time) (int64, error) {
	if f.Item == "" || f.Owner == "" {
		return 0, fmt.Errorf("a follow-up item needs a description and an owner")
	}
	if err := checkDate("opened date", f.Opened); err != nil {
		return 0, err
	}
	if f.Due != "" {
		if err := checkDate("due date", f.Due); err != nil {
			return 0, err
		}
	}
	if f.Status == "" {
		f.Status = StatusBelum
	}
	if err := checkStatus(f.Status); err != nil {
		return 0, err
	}
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store follow-up in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var rid any
	if f.ReviewID != 0 {
		rid = f.ReviewID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO followups (review_id, opened, item, owner, due, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		rid, f.Opened, f.Item, f.Owner, f.Due, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store follow-up in %s: %w", s.path, err)
	}
	id, _ := res.LastInsertId()
	if _, err := tx.ExecContext(ctx, `INSERT INTO followup_updates (followup_id, on_date, status, evidence) VALUES (?, ?, ?, ?)`,
		id, f.Opened, f.Status, f.Evidence); err != nil {
		return 0, fmt.Errorf("store follow-up in %s: %w", s.path, err)
	}
	return id, tx.Commit()
}

func checkStatus(st string) error {
	switch st {
	case StatusBelum, StatusProses, StatusSelesai:
		return nil
	}
	return fmt.Errorf("unknown status %q (want belum, proses or selesai)", st)
}

// UpdateFollowUp records a status change on a date, with evidence.
func (s *DB) UpdateFollowUp(ctx context.Context, id int64, on, status, evidence, note string) error {
	if err := checkDate("update date", on); err != nil {
		return err
	}
	if err := checkStatus(status); err != nil {
		return err
	}
	if status == StatusSelesai && evidence == "" {
		return fmt.Errorf("closing a follow-up item needs evidence (a document, link or ticket)")
	}
	var opened string
	if err := s.sql.QueryRowContext(ctx, `SELECT opened FROM followups WHERE id = ?`, id).Scan(&opened); err != nil {
		return fmt.Errorf("no follow-up item with id %d", id)
	}
	if on < opened {
		return fmt.Errorf("update date %s is before the item was opened (%s)", on, opened)
	}
	if _, err := s.sql.ExecContext(ctx, `INSERT INTO followup_updates (followup_id, on_date, status, evidence, note) VALUES (?, ?, ?, ?, ?)`,
		id, on, status, evidence, note); err != nil {
		return fmt.Errorf("store follow-up update in %s: %w", s.path, err)
	}
	return nil
}

// FollowUpsAsOf lists the items opened on or before date (YYYY-MM-DD) with
// their status as of that date, leaving out items already closed before
// since (so a month's table shows what was open during it and what was
// closed in it).
func (s *DB) FollowUpsAsOf(ctx context.Context, since, date string) ([]FollowUp, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT f.id, COALESCE(f.review_id, 0), f.opened, f.item, f.owner, f.due,
			u.status, u.evidence, u.on_date
		FROM followups f JOIN followup_updates u ON u.followup_id = f.id
		WHERE f.opened <= ? AND u.seq = (SELECT MAX(seq) FROM followup_updates
			WHERE followup_id = f.id AND on_date <= ?)
		ORDER BY f.opened, f.id`, date, date)
	if err != nil {
		return nil, fmt.Errorf("read follow-ups from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []FollowUp
	for rows.Next() {
		var f FollowUp
		if err := rows.Scan(&f.ID, &f.ReviewID, &f.Opened, &f.Item, &f.Owner, &f.Due, &f.Status, &f.Evidence, &f.Updated); err != nil {
			return nil, fmt.Errorf("read follow-ups from %s: %w", s.path, err)
		}
		if f.Status == StatusSelesai && f.Updated < since {
			continue
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
