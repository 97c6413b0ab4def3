package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The fleet (issue 22): what each agent last reported over OpAMP, the
// per-agent config overrides, the credential rotations an admin asked
// for, and the per-site credential profiles (sealed by the fleet
// server: statedb stores the bytes and never sees a secret). The
// fleet server (collector/internal/fleet) writes the agents' state; the
// admin surfaces (CLI, API, web UI) write overrides and rotations and
// record each change in the audit log themselves, as with every other
// change (the "by" arguments are kept in the rows).

// FleetAgent is an agent's reported state.
type FleetAgent struct {
	Agent, Site, Hostname, Version string
	TokenID                        string // the token the agent last authenticated with
	FirstSeen, LastSeen            time.Time
	ConfigOffered                  string // hex SHA-256 of the remote config last offered
	ConfigApplied                  string // hash the agent last reported APPLIED
	ConfigStatus                   string // "", "applying", "applied", "failed"
	ConfigError                    string
	EffectiveConfigHash            string
	Healthy                        bool
	HealthStatus, HealthError      string
	QueuePoints, QueueBytes        int64
	QueueOldestAgeSeconds          float64
	ClockOffsetSeconds             float64
	UpdateState, UpdateVersion     string // state: "", "offered", "downloading", "installed", "failed", "rolled_back"
	UpdateMessage                  string
}

// Config states (FleetAgent.ConfigStatus).
const (
	ConfigApplying = "applying"
	ConfigApplied  = "applied"
	ConfigFailed   = "failed"
)

// Update states (FleetAgent.UpdateState).
const (
	UpdateOffered     = "offered"
	UpdateDownloading = "downloading"
	UpdateInstalled   = "installed"
	UpdateFailed      = "failed"
	UpdateRolledBack  = "rolled_back"
)

// maxFleetText bounds the free text of an agent's report kept in a row.
const maxFleetText = 4096

func clipFleet(s string) string {
	if len(s) > maxFleetText {
		s = s[:maxFleetText]
	}
	return s
}

// UpsertFleetAgent stores a's state. LastSeen zero is the clock's now;
// FirstSeen is kept from the first row (zero in a: LastSeen).
func (s *DB) UpsertFleetAgent(ctx context.Context, a FleetAgent) error {
	if !ValidID(a.Agent) {
		return fmt.Errorf("%w %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(a.Agent))
	}
	if a.LastSeen.IsZero() {
		a.LastSeen = s.now()
	}
	if a.FirstSeen.IsZero() || a.FirstSeen.After(a.LastSeen) {
		a.FirstSeen = a.LastSeen
	}
	healthy := 0
	if a.Healthy {
		healthy = 1
	}
	_, err := s.sql.ExecContext(ctx, `INSERT INTO fleet_agents (agent, site, hostname, version, token_id, first_seen_ms, last_seen_ms,
		config_offered, config_applied, config_status, config_error, effective_config_hash, healthy, health_status, health_error,
		queue_points, queue_bytes, queue_oldest_age_seconds, clock_offset_seconds, update_state, update_version, update_message)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (agent) DO UPDATE SET site = excluded.site, hostname = excluded.hostname, version = excluded.version,
		token_id = excluded.token_id, first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), last_seen_ms = excluded.last_seen_ms,
		config_offered = excluded.config_offered, config_applied = excluded.config_applied, config_status = excluded.config_status,
		config_error = excluded.config_error, effective_config_hash = excluded.effective_config_hash, healthy = excluded.healthy,
		health_status = excluded.health_status, health_error = excluded.health_error, queue_points = excluded.queue_points,
		queue_bytes = excluded.queue_bytes, queue_oldest_age_seconds = excluded.queue_oldest_age_seconds,
		clock_offset_seconds = excluded.clock_offset_seconds, update_state = excluded.update_state,
		update_version = excluded.update_version, update_message = excluded.update_message`,
		a.Agent, clipFleet(a.Site), clipFleet(a.Hostname), clipFleet(a.Version), a.TokenID, a.FirstSeen.UnixMilli(), a.LastSeen.UnixMilli(),
		clipFleet(a.ConfigOffered), clipFleet(a.ConfigApplied), clipFleet(a.ConfigStatus), clipFleet(a.ConfigError), clipFleet(a.EffectiveConfigHash),
		healthy, clipFleet(a.HealthStatus), clipFleet(a.HealthError), a.QueuePoints, a.QueueBytes, a.QueueOldestAgeSeconds, a.ClockOffsetSeconds,
		clipFleet(a.UpdateState), clipFleet(a.UpdateVersion), clipFleet(a.UpdateMessage))
	if err != nil {
		return fmt.Errorf("store fleet state of agent %s in %s: %w", a.Agent, s.path, err)
	}
	return nil
}

const fleetAgentCols = `agent, site, hostname, version, token_id, first_seen_ms, last_seen_ms, config_offered, config_applied,
	config_status, config_error, effective_config_hash, healthy, health_status, health_error, queue_points, queue_bytes,
	queue_oldest_age_seconds, clock_offset_seconds, update_state, update_version, update_message`

func scanFleetAgent(r scanner) (FleetAgent, error) {
	var (
		a           FleetAgent
		first, last int64
		healthy     int
	)
	err := r.Scan(&a.Agent, &a.Site, &a.Hostname, &a.Version, &a.TokenID, &first, &last, &a.ConfigOffered, &a.ConfigApplied,
		&a.ConfigStatus, &a.ConfigError, &a.EffectiveConfigHash, &healthy, &a.HealthStatus, &a.HealthError, &a.QueuePoints,
		&a.QueueBytes, &a.QueueOldestAgeSeconds, &a.ClockOffsetSeconds, &a.UpdateState, &a.UpdateVersion, &a.UpdateMessage)
	if err != nil {
		return FleetAgent{}, err
	}
	a.FirstSeen, a.LastSeen, a.Healthy = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC(), healthy != 0
	return a, nil
}

// FleetAgent returns an agent's state (false: it never reported).
func (s *DB) FleetAgent(ctx context.Context, agent string) (FleetAgent, bool, error) {
	a, err := scanFleetAgent(s.sql.QueryRowContext(ctx, `SELECT `+fleetAgentCols+` FROM fleet_agents WHERE agent = ?`, agent))
	if errors.Is(err, sql.ErrNoRows) {
		return FleetAgent{}, false, nil
	}
	if err != nil {
		return FleetAgent{}, false, fmt.Errorf("read fleet state of agent %s in %s: %w", clipText(agent), s.path, err)
	}
	return a, true, nil
}

// ListFleetAgents returns every agent's state, by name.
func (s *DB) ListFleetAgents(ctx context.Context) ([]FleetAgent, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT `+fleetAgentCols+` FROM fleet_agents ORDER BY agent`)
	if err != nil {
		return nil, fmt.Errorf("list fleet agents in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []FleetAgent{}
	for rows.Next() {
		a, err := scanFleetAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("list fleet agents in %s: %w", s.path, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// MaxOverrideBytes bounds an agent's config override.
const MaxOverrideBytes = 64 << 10

// ErrOverrideTooLarge is an override over MaxOverrideBytes.
var ErrOverrideTooLarge = fmt.Errorf("config override larger than %d bytes", MaxOverrideBytes)

// FleetOverrideInfo is an override's bookkeeping.
type FleetOverrideInfo struct {
	Agent     string
	YAML      string
	UpdatedBy string
	UpdatedAt time.Time
}

// SetFleetOverride stores agent's config override (an agent.yml
// fragment the caller has validated), replacing any earlier one.
func (s *DB) SetFleetOverride(ctx context.Context, agent, yaml, by string) error {
	if !ValidID(agent) {
		return fmt.Errorf("%w %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(agent))
	}
	if len(yaml) > MaxOverrideBytes {
		return fmt.Errorf("override of agent %s: %w", agent, ErrOverrideTooLarge)
	}
	_, err := s.sql.ExecContext(ctx, `INSERT INTO fleet_overrides (agent, yaml, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (agent) DO UPDATE SET yaml = excluded.yaml, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		agent, yaml, clip(by), s.now().Unix())
	if err != nil {
		return fmt.Errorf("store config override of agent %s in %s: %w", agent, s.path, err)
	}
	return nil
}

// FleetOverride returns agent's config override (false: none).
func (s *DB) FleetOverride(ctx context.Context, agent string) (string, bool, error) {
	o, ok, err := s.FleetOverrideInfo(ctx, agent)
	return o.YAML, ok, err
}

// FleetOverrideInfo returns agent's override with who set it and when.
func (s *DB) FleetOverrideInfo(ctx context.Context, agent string) (FleetOverrideInfo, bool, error) {
	o := FleetOverrideInfo{Agent: agent}
	var at int64
	err := s.sql.QueryRowContext(ctx, `SELECT yaml, updated_by, updated_at FROM fleet_overrides WHERE agent = ?`, agent).Scan(&o.YAML, &o.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return FleetOverrideInfo{}, false, nil
	}
	if err != nil {
		return FleetOverrideInfo{}, false, fmt.Errorf("read config override of agent %s in %s: %w", clipText(agent), s.path, err)
	}
	o.UpdatedAt = time.Unix(at, 0).UTC()
	return o, true, nil
}

// ListFleetOverrides returns the agents with an override, by name
// (without their YAML).
func (s *DB) ListFleetOverrides(ctx context.Context) ([]FleetOverrideInfo, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT agent, updated_by, updated_at FROM fleet_overrides ORDER BY agent`)
	if err != nil {
		return nil, fmt.Errorf("list config overrides in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []FleetOverrideInfo{}
	for rows.Next() {
		var o FleetOverrideInfo
		var at int64
		if err := rows.Scan(&o.Agent, &o.UpdatedBy, &at); err != nil {
			return nil, fmt.Errorf("list config overrides in %s: %w", s.path, err)
		}
		o.UpdatedAt = time.Unix(at, 0).UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

// DeleteFleetOverride removes agent's override (none is not an error).
func (s *DB) DeleteFleetOverride(ctx context.Context, agent, by string) error {
	if _, err := s.sql.ExecContext(ctx, `DELETE FROM fleet_overrides WHERE agent = ?`, agent); err != nil {
		return fmt.Errorf("delete config override of agent %s in %s: %w", clipText(agent), s.path, err)
	}
	return nil
}

// Rotation is a pending credential rotation.
type Rotation struct {
	Agent       string
	RequestedBy string
	RequestedAt time.Time
}

// RequestRotation marks agent's credential for rotation: the fleet
// server issues a new token at the agent's next contact and calls
// ClearRotation. A second request while one is pending keeps the first.
func (s *DB) RequestRotation(ctx context.Context, agent, by string) error {
	if !ValidID(agent) {
		return fmt.Errorf("%w %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(agent))
	}
	_, err := s.sql.ExecContext(ctx, `INSERT INTO fleet_rotations (agent, requested_by, requested_at) VALUES (?, ?, ?)
		ON CONFLICT (agent) DO NOTHING`, agent, clip(by), s.now().Unix())
	if err != nil {
		return fmt.Errorf("request rotation for agent %s in %s: %w", agent, s.path, err)
	}
	return nil
}

// RotationRequested reports whether a rotation of agent is pending.
func (s *DB) RotationRequested(ctx context.Context, agent string) (bool, error) {
	var n int
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM fleet_rotations WHERE agent = ?`, agent).Scan(&n); err != nil {
		return false, fmt.Errorf("read rotation of agent %s in %s: %w", clipText(agent), s.path, err)
	}
	return n > 0, nil
}

// ClearRotation ends agent's pending rotation (none is not an error).
func (s *DB) ClearRotation(ctx context.Context, agent string) error {
	if _, err := s.sql.ExecContext(ctx, `DELETE FROM fleet_rotations WHERE agent = ?`, agent); err != nil {
		return fmt.Errorf("clear rotation of agent %s in %s: %w", clipText(agent), s.path, err)
	}
	return nil
}

// PendingRotations returns the pending rotations by agent.
func (s *DB) PendingRotations(ctx context.Context) (map[string]Rotation, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT agent, requested_by, requested_at FROM fleet_rotations`)
	if err != nil {
		return nil, fmt.Errorf("list rotations in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]Rotation{}
	for rows.Next() {
		var r Rotation
		var at int64
		if err := rows.Scan(&r.Agent, &r.RequestedBy, &at); err != nil {
			return nil, fmt.Errorf("list rotations in %s: %w", s.path, err)
		}
		r.RequestedAt = time.Unix(at, 0).UTC()
		out[r.Agent] = r
	}
	return out, rows.Err()
}

// CredentialProfileInfo names a stored credential profile.
type CredentialProfileInfo struct {
	Site, Name string
	UpdatedAt  time.Time
}

// maxSealed bounds a sealed profile.
const maxSealed = 64 << 10

// PutCredentialProfile stores a sealed profile (nonce||ciphertext, made
// by the fleet server), replacing any earlier one of that site and name.
func (s *DB) PutCredentialProfile(ctx context.Context, site, name string, sealed []byte, by string) error {
	switch {
	case !ValidID(site):
		return fmt.Errorf("%w: site %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(site))
	case !ValidID(name):
		return fmt.Errorf("%w: profile name %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(name))
	case len(sealed) == 0 || len(sealed) > maxSealed:
		return fmt.Errorf("credential profile %s/%s: sealed size %d out of 1..%d bytes", site, name, len(sealed), maxSealed)
	}
	_, err := s.sql.ExecContext(ctx, `INSERT INTO credential_profiles (site, name, sealed, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site, name) DO UPDATE SET sealed = excluded.sealed, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		site, name, sealed, clip(by), s.now().Unix())
	if err != nil {
		return fmt.Errorf("store credential profile %s/%s in %s: %w", site, name, s.path, err)
	}
	return nil
}

// CredentialProfile returns a sealed profile (false: none).
func (s *DB) CredentialProfile(ctx context.Context, site, name string) ([]byte, bool, error) {
	var b []byte
	err := s.sql.QueryRowContext(ctx, `SELECT sealed FROM credential_profiles WHERE site = ? AND name = ?`, site, name).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read credential profile %s/%s in %s: %w", clipText(site), clipText(name), s.path, err)
	}
	return b, true, nil
}

// ListCredentialProfiles names every profile, by site and name.
func (s *DB) ListCredentialProfiles(ctx context.Context) ([]CredentialProfileInfo, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT site, name, updated_at FROM credential_profiles ORDER BY site, name`)
	if err != nil {
		return nil, fmt.Errorf("list credential profiles in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []CredentialProfileInfo{}
	for rows.Next() {
		var p CredentialProfileInfo
		var at int64
		if err := rows.Scan(&p.Site, &p.Name, &at); err != nil {
			return nil, fmt.Errorf("list credential profiles in %s: %w", s.path, err)
		}
		p.UpdatedAt = time.Unix(at, 0).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// ErrNoCredentialProfile is a deletion of an unknown profile.
var ErrNoCredentialProfile = errors.New("no such credential profile")

// DeleteCredentialProfile removes a profile (ErrNoCredentialProfile
// when there is none).
func (s *DB) DeleteCredentialProfile(ctx context.Context, site, name, by string) error {
	res, err := s.sql.ExecContext(ctx, `DELETE FROM credential_profiles WHERE site = ? AND name = ?`, site, name)
	if err != nil {
		return fmt.Errorf("delete credential profile %s/%s in %s: %w", clipText(site), clipText(name), s.path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete credential profile %s/%s: %w", clipText(site), clipText(name), ErrNoCredentialProfile)
	}
	return nil
}
