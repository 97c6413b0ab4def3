package ingest

import (
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Dedup remembers the Pantau-Batch ids already stored, so that a batch the
// agent re-sends (its acknowledgement was lost) is answered 204 again and
// stored nothing twice. The ids are persisted in the state database by the
// group commit that made their batch durable, and loaded at start.
type Dedup struct {
	mu   sync.Mutex
	seen map[statedb.BatchKey]int64 // unix seconds stored
}

// NewDedup returns an empty set.
func NewDedup() *Dedup { return &Dedup{seen: map[statedb.BatchKey]int64{}} }

// Seen reports whether k was stored.
func (d *Dedup) Seen(k statedb.BatchKey) bool {
	d.mu.Lock()
	_, ok := d.seen[k]
	d.mu.Unlock()
	return ok
}

// Add records k as stored at t.
func (d *Dedup) Add(k statedb.BatchKey, t time.Time) {
	d.mu.Lock()
	d.seen[k] = t.Unix()
	d.mu.Unlock()
}

// Prune forgets ids stored before cutoff.
func (d *Dedup) Prune(cutoff time.Time) {
	c := cutoff.Unix()
	d.mu.Lock()
	for k, t := range d.seen {
		if t < c {
			delete(d.seen, k)
		}
	}
	d.mu.Unlock()
}

// Len is the number of remembered ids.
func (d *Dedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
