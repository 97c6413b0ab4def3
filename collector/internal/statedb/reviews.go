package statedb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Follow-up statuses (Bahasa Indonesia, as the SPBE team writes them).
const (
	StatusBelum   = "belum"   // not started
	StatusProses  = "proses"  // in progress
	StatusSelesai = "selesai" // done
)

// Review kinds: a review covers a month or a quarter.
const (
	KindMonthly   = "monthly"
	KindQuarterly = "quarterly"
)

// Review is one periodic review (reviu) meeting, of a month or of a
// quarter. A quarterly review is stored under its quarter's last month
// (2026-Q4 under 2026-12), so a range of months finds it with that month.
type Review struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`    // monthly or quarterly
	Month        string `json:"month"`   // YYYY-MM reviewed (a quarter's: its last month)
	Period       string `json:"period"`  // as a reader names it: 2026-10 or 2026-Q4
	HeldOn       string `json:"held_on"` // YYYY-MM-DD
	Scope        string `json:"scope,omitempty"`
	Participants string `json:"participants"`
	Findings     string `json:"findings"`
}

// ErrQuarterMonth is ReviewMonth's error for a quarterly review named by
// a month that does not end a quarter.
var ErrQuarterMonth = errors.New("a quarterly review names its quarter (2026-Q4) or the quarter's last month (2026-12)")

// ReviewMonth is the month a review of kind ("" is monthly) over period
// is stored under: a monthly review's period is its month (YYYY-MM); a
// quarterly review's is its quarter (2026-Q4) or the quarter's last month
// (2026-12), stored as that month.
func ReviewMonth(kind, period string) (string, error) {
	switch kind {
	case "", KindMonthly:
		if _, err := time.Parse("2006-01", period); err != nil {
			return "", fmt.Errorf("%q is not a month (YYYY-MM)", period)
		}
		return period, nil
	case KindQuarterly:
		if y, q, ok := strings.Cut(period, "-Q"); ok && len(q) == 1 && q >= "1" && q <= "4" {
			if t, err := time.Parse("2006", y); err == nil {
				return fmt.Sprintf("%04d-%02d", t.Year(), int(q[0]-'0')*3), nil
			}
		}
		t, err := time.Parse("2006-01", period)
		if err != nil || t.Month()%3 != 0 {
			return "", ErrQuarterMonth
		}
		return period, nil
	}
	return "", fmt.Errorf("unknown review kind %q (want monthly or quarterly)", kind)
}

// ReviewPeriod is the period label of a review of kind stored under
// month: the month, or the quarter (2026-Q4) of a quarterly review.
func ReviewPeriod(kind, month string) string {
	t, err := time.Parse("2006-01", month)
	if kind != KindQuarterly || err != nil {
		return month
	}
	return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())+2)/3)
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

// AddReview records a review: Kind "" is monthly; Month is the period
// as ReviewMonth takes it (a quarterly review's may be 2026-Q4).
func (s *DB) AddReview(ctx context.Context, r Review, now time.Time) (int64, error) {
	if r.Kind == "" {
		r.Kind = KindMonthly
	}
	month, err := ReviewMonth(r.Kind, r.Month)
	if err != nil {
		return 0, fmt.Errorf("review period: %w", err)
	}
	if err := checkDate("review date", r.HeldOn); err != nil {
		return 0, err
	}
	if r.Participants == "" || r.Findings == "" {
		return 0, fmt.Errorf("a review needs participants and findings")
	}
	res, err := s.sql.ExecContext(ctx, `INSERT INTO reviews (kind, month, held_on, scope, participants, findings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Kind, month, r.HeldOn, r.Scope, r.Participants, r.Findings, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store review in %s: %w", s.path, err)
	}
	return res.LastInsertId()
}

// Reviews lists the reviews of months [from, to] (YYYY-MM, inclusive): a
// quarterly review is in the range when its quarter's last month is.
func (s *DB) Reviews(ctx context.Context, from, to string) ([]Review, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT id, kind, month, held_on, scope, participants, findings FROM reviews
		WHERE month BETWEEN ? AND ? ORDER BY month, held_on, id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read reviews from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var r Review
		if err := rows.Scan(&r.ID, &r.Kind, &r.Month, &r.HeldOn, &r.Scope, &r.Participants, &r.Findings); err != nil {
			return nil, fmt.Errorf("read reviews from %s: %w", s.path, err)
		}
		r.Period = ReviewPeriod(r.Kind, r.Month)
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
