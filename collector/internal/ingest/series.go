package ingest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// agentSeries maps the series one agent writes, keyed by the raw wire
// identity (measurement, tags, field), to their Prometheus labels and TSDB
// references, so the hot path builds no labels for a series it has seen.
// It also counts the agent's active series for the per-agent limit.
type agentSeries struct {
	agent string

	mu      sync.RWMutex
	entries map[string]*seriesEntry // measurement \0 (tagkey \0 tagvalue \0)*
	active  map[uint64]*fieldSeries // label-set hash -> series; len is the active count

	lastWrite atomic.Int64 // unix seconds of the last accepted write

	// rates are the previous readings of translated Telegraf octet
	// counters (telegraf.go), at most the series limit, pruned with the
	// series.
	rmu   sync.Mutex
	rates map[string]counterReading
}

type seriesEntry struct {
	fields map[string]*fieldSeries // field key -> series; guarded by agentSeries.mu
}

type fieldSeries struct {
	lset     labels.Labels
	hash     uint64
	ref      atomic.Uint64 // storage.SeriesRef; 0 = unknown
	lastSeen atomic.Int64  // unix seconds
}

func newAgentSeries(agent string) *agentSeries {
	return &agentSeries{agent: agent, entries: map[string]*seriesEntry{}, active: map[uint64]*fieldSeries{}}
}

// lookupAll resolves the cached series of every pending sample of the
// current line: one read lock and one entry lookup per line.
func (a *agentSeries) lookupAll(sc *scratch) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e := a.entries[string(sc.key)]
	if e == nil {
		return
	}
	for i := range sc.pending {
		ps := &sc.pending[i]
		ps.fs = e.fields[string(sc.fields[ps.f0:ps.f1])]
	}
}

// insert adds a series built by build. It returns nil when the agent is at
// its limit and the label set is not already active.
func (a *agentSeries) insert(key, field []byte, lset labels.Labels, limit int, now int64) *fieldSeries {
	h := lset.Hash()
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entries[string(key)]
	if e == nil {
		e = &seriesEntry{fields: map[string]*fieldSeries{}}
		a.entries[string(key)] = e
	}
	if fs := e.fields[string(field)]; fs != nil {
		return fs
	}
	fs := a.active[h]
	if fs == nil || !labels.Equal(fs.lset, lset) {
		if len(a.active) >= limit {
			return nil
		}
		fs = &fieldSeries{lset: lset, hash: h}
		a.active[h] = fs
	}
	fs.lastSeen.Store(now)
	e.fields[string(field)] = fs
	return fs
}

func (a *agentSeries) count() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.active)
}

// prune forgets series not written since cutoff, so they stop counting
// against the limit.
func (a *agentSeries) prune(cutoff int64) (removed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.entries {
		for f, fs := range e.fields {
			if fs.lastSeen.Load() < cutoff {
				delete(e.fields, f)
			}
		}
		if len(e.fields) == 0 {
			delete(a.entries, k)
		}
	}
	for h, fs := range a.active {
		if fs.lastSeen.Load() < cutoff {
			delete(a.active, h)
			removed++
		}
	}
	a.rmu.Lock()
	for k, r := range a.rates {
		if r.ns < cutoff*1e9 {
			delete(a.rates, k)
		}
	}
	a.rmu.Unlock()
	return removed
}

// touch marks fs as written at now (unix seconds) without a store when the
// second has not changed.
func (fs *fieldSeries) touch(now int64) {
	if fs.lastSeen.Load() != now {
		fs.lastSeen.Store(now)
	}
}

func (fs *fieldSeries) seriesRef() storage.SeriesRef { return storage.SeriesRef(fs.ref.Load()) }

// registry holds the per-agent series maps.
type registry struct {
	mu     sync.RWMutex
	agents map[string]*agentSeries
}

func (r *registry) get(agent string) *agentSeries {
	r.mu.RLock()
	a := r.agents[agent]
	r.mu.RUnlock()
	if a != nil {
		return a
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if a = r.agents[agent]; a == nil {
		a = newAgentSeries(agent)
		r.agents[agent] = a
	}
	return a
}

func (r *registry) all() []*agentSeries {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*agentSeries, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, a)
	}
	return out
}

func (r *registry) prune(idle time.Duration, now time.Time) int {
	cutoff := now.Add(-idle).Unix()
	n := 0
	for _, a := range r.all() {
		n += a.prune(cutoff)
	}
	return n
}
