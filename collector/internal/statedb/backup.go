package statedb

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// BackupTo writes a consistent copy of the database to path (which must
// not exist) while the collector keeps writing: VACUUM INTO reads one
// snapshot of the database in a read transaction.
func (s *DB) BackupTo(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("back up state database: %s already exists", path)
	}
	if strings.ContainsRune(path, 0) {
		return fmt.Errorf("back up state database: bad path %q", path)
	}
	if _, err := s.sql.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("back up state database %s to %s: %w", s.path, path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("back up state database: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}

// SchemaVersion is the database's schema version (PRAGMA user_version).
func (s *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", s.path, err)
	}
	return v, nil
}

// SchemaVersions is the schema version this binary writes.
func SchemaVersions() int { return len(migrations) }
