package fleet

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReleasesListedAgainAfterSign: a release signed while the collector
// runs is in the store's listing at once (not only after
// ReleasesRescan), and it is the newest.
func TestReleasesListedAgainAfterSign(t *testing.T) {
	dir := t.TempDir()
	priv, _, err := Keygen(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pantau-agent")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewReleases(filepath.Join(dir, "releases"))
	now := time.Now()
	if l, err := r.List(now); err != nil || len(l) != 0 {
		t.Fatalf("empty store: %v %v", l, err)
	}
	sign := func(version string, at time.Time) {
		t.Helper()
		if _, err := SignRelease(priv, bin, version, "linux", "amd64", r.Dir(), at); err != nil {
			t.Fatal(err)
		}
	}
	sign("1.0.0", now)
	if m, err := r.Newest("linux", "amd64", now); err != nil || m == nil || m.Version != "1.0.0" {
		t.Fatalf("after the first sign: %+v %v", m, err)
	}
	sign("1.1.0", now.Add(time.Second))
	if m, err := r.Newest("linux", "amd64", now); err != nil || m == nil || m.Version != "1.1.0" {
		t.Fatalf("after the second sign: %+v %v", m, err)
	}
	// Signing an older version again makes it the newest (the rollback
	// of a fleet): its directory exists already.
	sign("1.0.0", now.Add(2*time.Second))
	if m, err := r.Newest("linux", "amd64", now); err != nil || m == nil || m.Version != "1.0.0" {
		t.Fatalf("after signing 1.0.0 again: %+v %v", m, err)
	}
}
