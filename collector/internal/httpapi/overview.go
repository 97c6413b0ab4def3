package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// CurrentStates gives the current state of links and services: the
// daemon's SLA builder (sla.Builder).
type CurrentStates interface {
	Current(l *inventory.Link, site string) sla.State
	CurrentService(sv *inventory.Service) sla.State
}

var _ CurrentStates = (*sla.Builder)(nil)

// FoundOutage is one outage of an inventory object as the SLA engine
// finds it (the code the alert engine explains outages with).
type FoundOutage struct {
	Kind       string // site, link or service
	ID         string
	Start, End time.Time
	// DurationSeconds is End - Start (flaps merged into the outage
	// included); DownSeconds the down time within it.
	DurationSeconds, DownSeconds int64
	Cause                        string // parent, isp, power, unknown, ...
	// Ongoing is an outage that reaches now and whose object is down now.
	Ongoing bool
}

// OutageFinder returns the outages of a site, its links and the services
// it hosts that overlap [from, to].
type OutageFinder func(ctx context.Context, site string, from, to time.Time) ([]FoundOutage, error)

// OverviewOptions configure the overview API: the current status of the
// inventory, the agents, outages and unmatched series, read by the web
// UI and by anyone with a viewer credential.
type OverviewOptions struct {
	DB *statedb.DB
	// Inventory returns the inventory in force (nil: none).
	Inventory func() *inventory.Inventory
	// TSDB is the collector's storage, unscoped: the handlers filter by
	// the caller's OPDs through the inventory.
	TSDB storage.Queryable
	// States are the current states (nil: every object nodata).
	States CurrentStates
	// Outages finds outages (nil: GET /api/v1/outages answers 409).
	Outages OutageFinder
	// AgentSilentAfter is how long an agent may send no heartbeat
	// before it is silent: the AgentSilent rule's for (default 5m).
	AgentSilentAfter time.Duration
	Logger           *slog.Logger
	Now              func() time.Time // nil: time.Now
}

// Overview serves the read-only overview endpoints the web UI shows
// (docs/api.md, "Status, agents and outages").
type Overview struct {
	o OverviewOptions
}

// NewOverview builds the overview API.
func NewOverview(o OverviewOptions) *Overview {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Inventory == nil {
		o.Inventory = func() *inventory.Inventory { return nil }
	}
	if o.AgentSilentAfter <= 0 {
		o.AgentSilentAfter = DefaultAgentSilentAfter
	}
	return &Overview{o: o}
}

// Register puts the overview API on mux.
func (ov *Overview) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/status", ov.status)
	mux.HandleFunc("GET /api/v1/agents", ov.agents)
	mux.HandleFunc("GET /api/v1/outages", ov.outages)
	mux.HandleFunc("GET /api/v1/inventory/unmatched", ov.unmatched)
}

// viewer returns the request's principal when it may read (a viewer,
// operator or admin; not an agent), else answers 401 or 403. The Gate
// checks the same; this holds for a caller that reaches the handler
// without it (the web UI's in-process calls).
func viewer(w http.ResponseWriter, r *http.Request) (*auth.Principal, bool) {
	p, ok := principal(w, r)
	if !ok {
		return nil, false
	}
	if !p.Can(auth.RoleViewer) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("%s needs the viewer role; %s is %s", r.URL.Path, p, p.Role))
		return nil, false
	}
	return p, true
}

func (ov *Overview) internal(w http.ResponseWriter, what string, err error) {
	internalError(w, ov.o.Logger, what, err)
}

// checkParams refuses a parameter not in allowed, or one given more than
// once, with a *ParamError naming it.
func checkParams(q url.Values, allowed ...string) error {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, k) {
			return &ParamError{strconv.Quote(clipParam(k)), fmt.Errorf("unknown parameter: use %s", joinOr(allowed))}
		}
		if n := len(q[k]); n != 1 {
			return &ParamError{k, fmt.Errorf("given %d times; give it once", n)}
		}
	}
	return nil
}

func joinOr(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// badParam answers 400 for a parameter error.
func badParam(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, err.Error())
}

// --- reading the TSDB ---

// eachLatest calls fn with the labels and the latest sample (not a
// staleness marker) of every series the matchers select in [from, to].
func eachLatest(ctx context.Context, q storage.Queryable, from, to time.Time, fn func(ls labels.Labels, t int64, v float64), ms ...*labels.Matcher) error {
	if q == nil {
		return nil
	}
	qr, err := q.Querier(from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return fmt.Errorf("open the TSDB for %v: %w", ms, err)
	}
	defer qr.Close()
	ss := qr.Select(ctx, false, &storage.SelectHints{Start: from.UnixMilli(), End: to.UnixMilli()}, ms...)
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		it = s.Iterator(it)
		var lt int64
		lv, found := 0.0, false
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			if typ != chunkenc.ValFloat {
				continue
			}
			t, v := it.At()
			if t < from.UnixMilli() || t > to.UnixMilli() || value.IsStaleNaN(v) {
				continue
			}
			lt, lv, found = t, v, true
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("read %s: %w", s.Labels(), err)
		}
		if found {
			fn(s.Labels(), lt, lv)
		}
	}
	if err := ss.Err(); err != nil {
		return fmt.Errorf("read the TSDB for %v: %w", ms, err)
	}
	return nil
}

func nameIs(metric string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric)
}

// finite returns a pointer to v, nil for NaN or ±Inf (JSON has neither).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
