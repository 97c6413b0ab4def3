// Package fleet is the collector's side of fleet management over OpAMP
// (github.com/open-telemetry/opamp-go): the OpAMP server at POST /v1/opamp
// that records each agent's state (version, health, config status, queue
// backlog, clock offset, update state), derives each agent's config
// fragment from the inventory, its credential profiles and its override
// and offers it when it changes, rotates agent tokens through OpAMP
// connection settings, and offers signed agent releases. Credential
// profiles are sealed at rest with XChaCha20-Poly1305 under a key file
// (Keyring); releases are signed with ed25519 (release.go).
//
// State lives in the collector's state database behind Store (statedb
// implements it); the inventory is read through a function so that a
// reload reaches the next request.
package fleet

import (
	"context"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// FleetAgent is what the collector knows of one agent.
type FleetAgent = statedb.FleetAgent

// CredentialProfileInfo names a stored credential profile.
type CredentialProfileInfo = statedb.CredentialProfileInfo

// Config status values of FleetAgent.ConfigStatus.
const (
	ConfigApplying = "applying"
	ConfigApplied  = "applied"
	ConfigFailed   = "failed"
)

// AgentStore keeps the fleet view.
type AgentStore interface {
	UpsertFleetAgent(ctx context.Context, a FleetAgent) error
	FleetAgent(ctx context.Context, agent string) (FleetAgent, bool, error)
}

// OverrideStore holds the per-agent override YAML.
type OverrideStore interface {
	FleetOverride(ctx context.Context, agent string) (yaml string, ok bool, err error)
}

// RotationStore holds the pending token rotations (agents rotate) and
// the tokens a rotation creates and revokes.
type RotationStore interface {
	RotationRequested(ctx context.Context, agent string) (bool, error)
	ClearRotation(ctx context.Context, agent string) error
	CreateToken(ctx context.Context, agent string, sites []string, description string) (string, statedb.Token, error)
	RevokeToken(ctx context.Context, id string) error
	ListTokens(ctx context.Context) ([]statedb.Token, error)
}

// CredentialStore holds sealed credential profiles (sealed =
// nonce||ciphertext, made and opened by Keyring).
type CredentialStore interface {
	PutCredentialProfile(ctx context.Context, site, name string, sealed []byte, by string) error
	CredentialProfile(ctx context.Context, site, name string) (sealed []byte, ok bool, err error)
	ListCredentialProfiles(ctx context.Context) ([]CredentialProfileInfo, error)
	DeleteCredentialProfile(ctx context.Context, site, name, by string) error
}

// Auditor records changes in the audit log (statedb.DB).
type Auditor interface {
	AddAudit(ctx context.Context, e statedb.AuditEntry) (int64, error)
}

// Store is everything the OpAMP server reads and writes (*statedb.DB).
type Store interface {
	AgentStore
	OverrideStore
	RotationStore
	CredentialStore
	Auditor
}
