package httpapi

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Agents: a heartbeat older than AgentSeenWindow is not looked for; an
// agent is silent after DefaultAgentSilentAfter without one (the
// AgentSilent rule's default for).
const (
	AgentSeenWindow         = 7 * 24 * time.Hour
	DefaultAgentSilentAfter = 5 * time.Minute
	// agentRecent is the first, cheap look for heartbeats: an agent not
	// seen in it is looked for over the whole AgentSeenWindow.
	agentRecent = 15 * time.Minute
)

// AgentView is an agent as GET /api/v1/agents shows it.
type AgentView struct {
	ID string `json:"id"`
	// Site is the site of its newest heartbeat, else its token's one
	// site ("" unknown); OPD is the inventory's OPD of that site.
	Site    string `json:"site"`
	OPD     string `json:"opd"`
	Version string `json:"version"` // of the newest heartbeat ("" none)
	// LastSeen is its newest heartbeat within AgentSeenWindow (null none).
	LastSeen *time.Time `json:"last_seen"`
	// Silent: no heartbeat for longer than the AgentSilent rule's for
	// (null LastSeen is silent too).
	Silent bool `json:"silent"`
	// SilentSeconds is the time since LastSeen (null without one).
	SilentSeconds *float64 `json:"silent_seconds"`
	// QueuePoints and QueueOldestAgeSeconds are its newest heartbeat's
	// spool figures (null without one).
	QueuePoints           *float64 `json:"queue_points"`
	QueueOldestAgeSeconds *float64 `json:"queue_oldest_age_seconds"`
	// TokenIDs are its active agent tokens: shown to an unscoped admin
	// only (absent otherwise).
	TokenIDs []string `json:"token_ids,omitempty"`
	// Fleet is what the agent reported over OpAMP (absent for an agent
	// not managed by the fleet server).
	Fleet *FleetView `json:"fleet,omitempty"`
}

// FleetView is an agent's fleet state (docs/fleet.md, "Fleet view").
type FleetView struct {
	Hostname    string    `json:"hostname,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastContact time.Time `json:"last_contact"` // its last OpAMP message
	// ConfigOffered is the SHA-256 of the remote config last offered,
	// ConfigApplied the one it last applied; ConfigCurrent says they are
	// the same; ConfigStatus is "", applying, applied or failed (with
	// ConfigError).
	ConfigOffered string `json:"config_offered,omitempty"`
	ConfigApplied string `json:"config_applied,omitempty"`
	ConfigCurrent bool   `json:"config_current"`
	ConfigStatus  string `json:"config_status,omitempty"`
	ConfigError   string `json:"config_error,omitempty"`
	Healthy       bool   `json:"healthy"`
	HealthStatus  string `json:"health_status,omitempty"`
	HealthError   string `json:"health_error,omitempty"`
	QueuePoints   int64  `json:"queue_points"`
	QueueBytes    int64  `json:"queue_bytes"`
	// QueueOldestAgeSeconds and ClockOffsetSeconds (agent clock minus
	// the collector's) are from its last status message.
	QueueOldestAgeSeconds float64 `json:"queue_oldest_age_seconds"`
	ClockOffsetSeconds    float64 `json:"clock_offset_seconds"`
	UpdateState           string  `json:"update_state,omitempty"` // "", offered, downloading, installed, failed, rolled_back
	UpdateVersion         string  `json:"update_version,omitempty"`
	UpdateMessage         string  `json:"update_message,omitempty"`
	RotationPending       bool    `json:"rotation_pending"`
	Override              bool    `json:"override"`
}

// FleetViewOf is a's fleet state as the API and the CLI show it.
func FleetViewOf(a statedb.FleetAgent, rotation, override bool) *FleetView {
	return &FleetView{Hostname: a.Hostname, FirstSeen: a.FirstSeen, LastContact: a.LastSeen,
		ConfigOffered: a.ConfigOffered, ConfigApplied: a.ConfigApplied,
		ConfigCurrent: a.ConfigOffered != "" && a.ConfigApplied == a.ConfigOffered,
		ConfigStatus:  a.ConfigStatus, ConfigError: a.ConfigError, Healthy: a.Healthy, HealthStatus: a.HealthStatus,
		HealthError: a.HealthError, QueuePoints: a.QueuePoints, QueueBytes: a.QueueBytes,
		QueueOldestAgeSeconds: a.QueueOldestAgeSeconds, ClockOffsetSeconds: a.ClockOffsetSeconds,
		UpdateState: a.UpdateState, UpdateVersion: a.UpdateVersion, UpdateMessage: a.UpdateMessage,
		RotationPending: rotation, Override: override}
}

// fleetState is the fleet tables, read once per list.
type fleetState struct {
	agents    map[string]statedb.FleetAgent
	rotations map[string]statedb.Rotation
	overrides map[string]bool
}

func readFleet(ctx context.Context, db *statedb.DB) (fleetState, error) {
	fs := fleetState{agents: map[string]statedb.FleetAgent{}, rotations: map[string]statedb.Rotation{}, overrides: map[string]bool{}}
	if db == nil {
		return fs, nil
	}
	list, err := db.ListFleetAgents(ctx)
	if err != nil {
		return fs, err
	}
	for _, a := range list {
		fs.agents[a.Agent] = a
	}
	if fs.rotations, err = db.PendingRotations(ctx); err != nil {
		return fs, err
	}
	os, err := db.ListFleetOverrides(ctx)
	if err != nil {
		return fs, err
	}
	for _, o := range os {
		fs.overrides[o.Agent] = true
	}
	return fs, nil
}

type heartbeat struct {
	t             int64 // ms
	site, version string
}

func (ov *Overview) agents(w http.ResponseWriter, r *http.Request) {
	p, ok := viewer(w, r)
	if !ok {
		return
	}
	if err := checkParams(r.URL.Query()); err != nil {
		badParam(w, err)
		return
	}
	now := ov.o.Now()
	list, err := ov.agentList(r.Context(), p, now)
	if err != nil {
		ov.internal(w, "list the agents", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": list})
}

func (ov *Overview) agentList(ctx context.Context, p *auth.Principal, now time.Time) ([]AgentView, error) {
	tokens := map[string][]statedb.Token{}
	if ov.o.DB != nil {
		ts, err := ov.o.DB.ListTokens(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.Role != statedb.RoleAgent || !t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now)) {
				continue
			}
			tokens[t.Agent] = append(tokens[t.Agent], t)
		}
	}
	beats, err := ov.heartbeats(ctx, now)
	if err != nil {
		return nil, err
	}
	points, err := ov.latestByAgent(ctx, "pantau_agent_queue_points", now)
	if err != nil {
		return nil, err
	}
	oldest, err := ov.latestByAgent(ctx, "pantau_agent_queue_oldest_age_seconds", now)
	if err != nil {
		return nil, err
	}
	fleet, err := readFleet(ctx, ov.o.DB)
	if err != nil {
		return nil, err
	}
	inv := ov.o.Inventory()
	ids := map[string]bool{}
	for a := range tokens {
		ids[a] = true
	}
	for a := range fleet.agents {
		ids[a] = true
	}
	for a := range beats {
		ids[a] = true
	}
	showTokens := p.Can(auth.RoleAdmin) && !p.Scoped()
	out := []AgentView{}
	for id := range ids {
		if id == "" {
			continue
		}
		v := AgentView{ID: id, Silent: true}
		if b, ok := beats[id]; ok {
			t := time.UnixMilli(b.t).UTC()
			v.LastSeen, v.Site, v.Version = &t, b.site, b.version
			silent := now.Sub(t)
			v.Silent = silent > ov.o.AgentSilentAfter
			v.SilentSeconds = finite(max(silent, 0).Seconds())
		}
		fa, managed := fleet.agents[id]
		if managed {
			_, rot := fleet.rotations[id]
			v.Fleet = FleetViewOf(fa, rot, fleet.overrides[id])
			if v.Site == "" {
				v.Site = fa.Site
			}
			if fa.Version != "" && (v.LastSeen == nil || !fa.LastSeen.Before(*v.LastSeen)) {
				v.Version = fa.Version
			}
		}
		if v.Site == "" {
			for _, t := range tokens[id] {
				if len(t.Sites) == 1 {
					v.Site = t.Sites[0]
					break
				}
			}
		}
		v.OPD = siteOPD(inv, v.Site)
		if !p.Sees(v.OPD) {
			continue
		}
		if q, ok := points[id]; ok {
			v.QueuePoints = finite(q)
		}
		if q, ok := oldest[id]; ok {
			v.QueueOldestAgeSeconds = finite(q)
		}
		if showTokens {
			v.TokenIDs = []string{}
			for _, t := range tokens[id] {
				v.TokenIDs = append(v.TokenIDs, t.ID)
			}
			slices.Sort(v.TokenIDs)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b AgentView) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// heartbeats returns each agent's newest heartbeat
// (pantau_agent_uptime_seconds) within AgentSeenWindow: first over the
// last agentRecent for every agent, then over the rest of the window
// for the agents that sent none lately (the silent ones, few).
func (ov *Overview) heartbeats(ctx context.Context, now time.Time) (map[string]heartbeat, error) {
	hb := nameIs("pantau_agent_uptime_seconds")
	out := map[string]heartbeat{}
	collect := func(ls labels.Labels, t int64, _ float64) {
		a := ls.Get("agent")
		if old, ok := out[a]; !ok || t > old.t {
			out[a] = heartbeat{t: t, site: ls.Get("site"), version: ls.Get("version")}
		}
	}
	if err := eachLatest(ctx, ov.o.TSDB, now.Add(-agentRecent), now, collect, hb); err != nil {
		return nil, err
	}
	if ov.o.TSDB == nil {
		return out, nil
	}
	from := now.Add(-AgentSeenWindow)
	qr, err := ov.o.TSDB.Querier(from.UnixMilli(), now.UnixMilli())
	if err != nil {
		return nil, err
	}
	all, _, err := qr.LabelValues(ctx, "agent", nil, hb)
	qr.Close()
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if _, ok := out[a]; ok {
			continue
		}
		if err := eachLatest(ctx, ov.o.TSDB, from, now.Add(-agentRecent), collect, hb, labels.MustNewMatcher(labels.MatchEqual, "agent", a)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// latestByAgent is the newest sample of metric per agent within the last
// staleFigures.
func (ov *Overview) latestByAgent(ctx context.Context, metric string, now time.Time) (map[string]float64, error) {
	out, at := map[string]float64{}, map[string]int64{}
	err := eachLatest(ctx, ov.o.TSDB, now.Add(-staleFigures), now, func(ls labels.Labels, t int64, v float64) {
		a := ls.Get("agent")
		if old, ok := at[a]; !ok || t > old {
			out[a], at[a] = v, t
		}
	}, nameIs(metric))
	return out, err
}
