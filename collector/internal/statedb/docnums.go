package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DocKey names one document: a product (monthly, opd-sheet, ...), its
// scope (pemda, opd:ID, site:ID, ...), its period and its version.
type DocKey struct {
	Product string
	Scope   string
	Period  string
	Version int
}

// DocNumber is an issued document number.
type DocNumber struct {
	Year   int
	Seq    int
	Number string
	Issued time.Time
}

// docMu serialises the issuers of this process (a deferred SQLite
// transaction that upgrades to a write lock fails at once when another
// has written since it read, whatever busy_timeout says).
var docMu sync.Mutex

// DocumentNumber returns the number of the document key names, issuing it
// when it has none: the next sequence number of the year of issued, as
// format writes it. A number once issued never changes (a later change
// of the pattern gives new documents new numbers, not old ones).
func (s *DB) DocumentNumber(ctx context.Context, key DocKey, issued time.Time, format func(seq int) string) (DocNumber, error) {
	// Another process (the CLI beside the daemon) may take the same
	// sequence number at once: the loser's insert fails on UNIQUE and
	// tries again with the next.
	docMu.Lock()
	defer docMu.Unlock()
	var err error
	for range 5 {
		var n DocNumber
		if n, err = s.documentNumber(ctx, key, issued, format); err == nil {
			return n, nil
		}
		if msg := err.Error(); !strings.Contains(msg, "UNIQUE") && !strings.Contains(msg, "locked") && !strings.Contains(msg, "busy") {
			break
		}
	}
	return DocNumber{}, fmt.Errorf("issue a document number for %s %s %s v%d in %s: %w", key.Product, key.Scope, key.Period, key.Version, s.path, err)
}

func (s *DB) documentNumber(ctx context.Context, key DocKey, issued time.Time, format func(seq int) string) (DocNumber, error) {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return DocNumber{}, err
	}
	defer tx.Rollback()
	var n DocNumber
	var ms int64
	err = tx.QueryRowContext(ctx, `SELECT year, seq, number, issued_ms FROM document_numbers WHERE product = ? AND scope = ? AND period = ? AND version = ?`,
		key.Product, key.Scope, key.Period, key.Version).Scan(&n.Year, &n.Seq, &n.Number, &ms)
	if err == nil {
		n.Issued = time.UnixMilli(ms).In(issued.Location())
		return n, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return DocNumber{}, err
	}
	n = DocNumber{Year: issued.Year(), Issued: issued}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM document_numbers WHERE year = ?`, n.Year).Scan(&n.Seq); err != nil {
		return DocNumber{}, err
	}
	n.Number = format(n.Seq)
	if _, err := tx.ExecContext(ctx, `INSERT INTO document_numbers (product, scope, period, version, year, seq, number, issued_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		key.Product, key.Scope, key.Period, key.Version, n.Year, n.Seq, n.Number, issued.UnixMilli()); err != nil {
		return DocNumber{}, err
	}
	return n, tx.Commit()
}
