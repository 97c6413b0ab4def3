package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Evidence is an uploaded evidence file (for a follow-up item), stored in
// the data directory under its SHA-256; this is its row.
type Evidence struct {
	SHA256      string    `json:"sha256"` // lowercase hex
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Filename    string    `json:"filename"`
	Uploaded    time.Time `json:"uploaded"`
	UploadedBy  string    `json:"uploaded_by"`
}

// EvidenceRef is how a follow-up update's evidence field names an
// uploaded file.
const EvidenceRef = "sha256:"

// ErrNoEvidence is an evidence file that was never uploaded.
var ErrNoEvidence = errors.New("no such evidence file")

// AddEvidence records an uploaded file; a file with the same hash is
// kept as it is (added false).
func (s *DB) AddEvidence(ctx context.Context, e Evidence) (added bool, err error) {
	res, err := s.sql.ExecContext(ctx, `INSERT OR IGNORE INTO evidence (sha256, size, content_type, filename, uploaded_ms, uploaded_by)
		VALUES (?, ?, ?, ?, ?, ?)`, e.SHA256, e.Size, e.ContentType, clip(e.Filename), e.Uploaded.UnixMilli(), clip(e.UploadedBy))
	if err != nil {
		return false, fmt.Errorf("record evidence file %s in %s: %w", e.SHA256, s.path, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// EvidenceFile returns the row of an uploaded file (ErrNoEvidence when
// there is none).
func (s *DB) EvidenceFile(ctx context.Context, sha string) (Evidence, error) {
	e := Evidence{SHA256: sha}
	var at int64
	err := s.sql.QueryRowContext(ctx, `SELECT size, content_type, filename, uploaded_ms, uploaded_by FROM evidence WHERE sha256 = ?`, sha).
		Scan(&e.Size, &e.ContentType, &e.Filename, &at, &e.UploadedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("%w: %s", ErrNoEvidence, sha)
	}
	if err != nil {
		return Evidence{}, fmt.Errorf("read evidence file %s from %s: %w", sha, s.path, err)
	}
	e.Uploaded = time.UnixMilli(at).UTC()
	return e, nil
}

// EvidenceScopes returns the scopes (the review's OPD, "" for the whole
// Pemda or no review) of the follow-up items whose updates reference the
// file as "sha256:<hex>".
func (s *DB) EvidenceScopes(ctx context.Context, sha string) ([]string, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT DISTINCT COALESCE(r.scope, '') FROM followup_updates u
		JOIN followups f ON f.id = u.followup_id LEFT JOIN reviews r ON r.id = f.review_id
		WHERE u.evidence = ?`, EvidenceRef+sha)
	if err != nil {
		return nil, fmt.Errorf("read evidence references from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sc string
		if err := rows.Scan(&sc); err != nil {
			return nil, fmt.Errorf("read evidence references from %s: %w", s.path, err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}
