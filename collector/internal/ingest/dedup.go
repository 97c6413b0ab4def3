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
//
// What one agent's ids may take is bounded in bytes (BatchIDCost each):
// beyond the bound its oldest ids are forgotten first, and the state
// database forgets them too (TakeEvicted), so a token that sends unique
// ids without end grows neither the memory nor state.db. An agent only
// re-sends batches whose acknowledgement it did not get, the newest ones,
// so a bound of thousands of ids loses nothing.
type Dedup struct {
	maxBytes int64 // per agent; 0: no bound

	mu      sync.Mutex
	agents  map[string]*agentBatches
	count   int
	bytes   int64
	evicted []statedb.BatchKey // forgotten here, not yet in the state database
	total   uint64             // ids evicted for the bound, ever
}

type agentBatches struct {
	seen  map[string]int64 // batch id → unix seconds stored
	order []batchEntry     // oldest first, from head on
	head  int
	bytes int64
}

type batchEntry struct {
	id string
	at int64
}

// batchIDOverhead is what remembering one id costs besides its bytes (map
// entry, queue entry, string headers), for the per-agent bound.
const batchIDOverhead = 96

// BatchIDCost is what one remembered id of batch bytes counts against
// the per-agent bound.
func BatchIDCost(batch string) int64 { return int64(len(batch)) + batchIDOverhead }

// maxPendingEvictions bounds the evictions waiting for the state
// database; beyond it the oldest are dropped (statedb.TrimBatches, run
// periodically, removes those rows).
const maxPendingEvictions = 1 << 16

// NewDedup returns an empty set whose ids of one agent take at most
// maxBytesPerAgent (0: no bound).
func NewDedup(maxBytesPerAgent int64) *Dedup {
	return &Dedup{maxBytes: maxBytesPerAgent, agents: map[string]*agentBatches{}}
}

// Seen reports whether k was stored.
func (d *Dedup) Seen(k statedb.BatchKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agents[k.Agent]
	if a == nil {
		return false
	}
	_, ok := a.seen[k.Batch]
	return ok
}

// Add records k as stored at t; ids of the agent beyond the bound are
// forgotten, oldest first.
func (d *Dedup) Add(k statedb.BatchKey, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.agents[k.Agent]
	if a == nil {
		a = &agentBatches{seen: map[string]int64{}}
		d.agents[k.Agent] = a
	}
	if _, ok := a.seen[k.Batch]; ok {
		return
	}
	a.seen[k.Batch] = t.Unix()
	a.order = append(a.order, batchEntry{k.Batch, t.Unix()})
	c := BatchIDCost(k.Batch)
	a.bytes += c
	d.bytes += c
	d.count++
	for d.maxBytes > 0 && a.bytes > d.maxBytes && len(a.order)-a.head > 1 {
		e := d.pop(k.Agent, a)
		d.total++
		if len(d.evicted) >= maxPendingEvictions {
			d.evicted = append(d.evicted[:0], d.evicted[len(d.evicted)/2:]...)
		}
		d.evicted = append(d.evicted, statedb.BatchKey{Agent: k.Agent, Batch: e.id})
	}
}

// pop forgets the agent's oldest id.
func (d *Dedup) pop(agent string, a *agentBatches) batchEntry {
	e := a.order[a.head]
	a.order[a.head] = batchEntry{}
	a.head++
	if a.head > 1024 && a.head > len(a.order)/2 {
		a.order = append(a.order[:0], a.order[a.head:]...)
		a.head = 0
	}
	delete(a.seen, e.id)
	c := BatchIDCost(e.id)
	a.bytes -= c
	d.bytes -= c
	d.count--
	if len(a.seen) == 0 {
		delete(d.agents, agent)
	}
	return e
}

// TakeEvicted returns the ids forgotten for the bound since the last
// call, for the state database to forget as well.
func (d *Dedup) TakeEvicted() []statedb.BatchKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.evicted
	d.evicted = nil
	return out
}

// Prune forgets ids stored before cutoff (ids are added in time order,
// so each agent's oldest are at the head).
func (d *Dedup) Prune(cutoff time.Time) {
	c := cutoff.Unix()
	d.mu.Lock()
	defer d.mu.Unlock()
	for agent, a := range d.agents {
		for len(a.order) > a.head && a.order[a.head].at < c {
			d.pop(agent, a)
		}
	}
}

// Len is the number of remembered ids.
func (d *Dedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count
}

// stats returns the ids remembered, their bytes (as bounded) and the ids
// evicted for the bound so far.
func (d *Dedup) stats() (int, int64, uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count, d.bytes, d.total
}
