package statedb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Enrolment codes (issue 22): an admin creates a one-time code bound to
// a site (and optionally an agent name), valid for a while; a new box
// trades it once for its own agent token (POST /api/v1/enroll). The code
// is an id (public, looked up) and a secret (160 random bits, stored as
// its SHA-256 like a token's, checked in constant time); its text form
// (fleetproto.Code) adds the collector certificate's pin.
//
// Agent names: a code that names an agent enrols that agent, whatever
// name the box asks for, and revokes the agent's older tokens in the same
// transaction (this is how an admin replaces a box: the code naming the
// agent is the decision). A code without a name takes the name the box
// asks for, and refuses it (ErrAgentTaken, the code stays unused) while
// that agent has an active token: re-enrolling an existing agent needs a
// code made with its name.
//
// Every creation, redemption, refused redemption and revocation is in the
// audit log, written in the same transaction as the change.

// Errors of enrolment codes.
var (
	// ErrEnrolmentInvalid is a code that is unknown, used, expired or
	// revoked, or whose secret is wrong: one error (and one message to
	// the client) for all, so that a guesser learns nothing.
	ErrEnrolmentInvalid = errors.New("enrolment code unknown, used or expired")
	// ErrEnrolmentNotFound is a revocation of an unknown code.
	ErrEnrolmentNotFound = errors.New("no such enrolment code")
	// ErrEnrolmentUsed is a revocation of a code already redeemed.
	ErrEnrolmentUsed = errors.New("enrolment code already used")
	// ErrAgentTaken is a redemption asking for the name of an agent that
	// has an active token, with a code that does not name it.
	ErrAgentTaken = errors.New("agent name taken by another enrolled agent")
	// ErrAgentNameNeeded is a redemption of a code without an agent name
	// that asks for none.
	ErrAgentNameNeeded = errors.New("agent name needed")
	// ErrBadValidity is a validity out of range.
	ErrBadValidity = errors.New("invalid validity")
)

// Validity of an enrolment code.
const (
	DefaultEnrolmentValidity = 24 * time.Hour
	MinEnrolmentValidity     = time.Minute
	MaxEnrolmentValidity     = 30 * 24 * time.Hour
	// enrolmentSecretBytes is the secret's randomness (base32: 32
	// characters).
	enrolmentSecretBytes = 20
	// maxEnrolmentText bounds the free text a code or a redemption keeps
	// (description, host name, version).
	maxEnrolmentText = 256
)

// Enrolment states (Enrolment.State).
const (
	EnrolmentActive  = "active"
	EnrolmentUsed    = "used"
	EnrolmentExpired = "expired"
	EnrolmentRevoked = "revoked"
)

// Enrolment is a stored code; its secret is never stored.
type Enrolment struct {
	ID          string
	Site        string
	Agent       string // "" the box names itself
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time // zero: not used
	UsedAgent   string    // the agent it enrolled
	UsedFrom    string    // the client address that redeemed it
	TokenID     string    // the token it created
	RevokedAt   time.Time // zero: not revoked
	hash        []byte
}

// State is the code's state at now: active, used, revoked or expired.
func (e *Enrolment) State(now time.Time) string {
	switch {
	case !e.UsedAt.IsZero():
		return EnrolmentUsed
	case !e.RevokedAt.IsZero():
		return EnrolmentRevoked
	case !now.Before(e.ExpiresAt):
		return EnrolmentExpired
	}
	return EnrolmentActive
}

// EnrolmentSpec is what a new code is bound to.
type EnrolmentSpec struct {
	Site        string
	Agent       string        // optional
	Valid       time.Duration // 0: DefaultEnrolmentValidity
	Description string
}

// Check validates the spec (and sets the default validity).
func (sp *EnrolmentSpec) Check() error {
	if !ValidID(sp.Site) {
		return fmt.Errorf("%w: site %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(sp.Site))
	}
	if sp.Agent != "" && !ValidID(sp.Agent) {
		return fmt.Errorf("%w %q: use 1-128 letters, digits, '.', '_' or '-'", ErrBadAgentID, clipText(sp.Agent))
	}
	if sp.Valid == 0 {
		sp.Valid = DefaultEnrolmentValidity
	}
	if sp.Valid < MinEnrolmentValidity || sp.Valid > MaxEnrolmentValidity {
		return fmt.Errorf("%w %s: use from %s to %s (30 days)", ErrBadValidity, sp.Valid, MinEnrolmentValidity, MaxEnrolmentValidity)
	}
	if len(sp.Description) > maxEnrolmentText {
		return fmt.Errorf("description longer than %d bytes", maxEnrolmentText)
	}
	return nil
}

func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// EnrolmentSummary describes a code for the audit log (never its secret).
func EnrolmentSummary(e Enrolment) string {
	s := "enrolment code for site " + e.Site
	if e.Agent != "" {
		s += ", agent " + e.Agent
	}
	s += ", expires " + e.ExpiresAt.Format(time.RFC3339)
	if e.Description != "" {
		s += ", " + e.Description
	}
	return s
}

// CreateEnrolment creates a code valid from now for spec.Valid and
// returns its secret (shown once, never stored). audit names the actor,
// source and action; its object, summary and time are filled in, and it
// is written in the same transaction.
func (s *DB) CreateEnrolment(ctx context.Context, spec EnrolmentSpec, audit AuditEntry, now time.Time) (string, Enrolment, error) {
	if err := spec.Check(); err != nil {
		return "", Enrolment{}, err
	}
	idb := make([]byte, 10)
	sec := make([]byte, enrolmentSecretBytes)
	rand.Read(idb)
	rand.Read(sec)
	e := Enrolment{
		ID: strings.ToLower(b32.EncodeToString(idb)), Site: spec.Site, Agent: spec.Agent, Description: spec.Description,
		CreatedBy: actorText(audit), CreatedAt: now.UTC().Truncate(time.Second),
	}
	e.ExpiresAt = e.CreatedAt.Add(spec.Valid)
	secret := strings.ToLower(b32.EncodeToString(sec))
	sum := sha256.Sum256([]byte(secret))
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return "", Enrolment{}, fmt.Errorf("store enrolment code in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO enrolments (id, hash, site, agent, description, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, sum[:], e.Site, e.Agent, e.Description, e.CreatedBy, e.CreatedAt.Unix(), e.ExpiresAt.Unix()); err != nil {
		return "", Enrolment{}, fmt.Errorf("store enrolment code in %s: %w", s.path, err)
	}
	audit.At, audit.Object, audit.Summary = now, "enrolment/"+e.ID, EnrolmentSummary(e)
	if err := addAuditOn(ctx, tx, audit); err != nil {
		return "", Enrolment{}, fmt.Errorf("store enrolment code in %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return "", Enrolment{}, fmt.Errorf("store enrolment code in %s: %w", s.path, err)
	}
	return secret, e, nil
}

// actorText names an audit entry's actor for a row's created_by.
func actorText(a AuditEntry) string {
	switch {
	case a.ActorName != "":
		return a.ActorKind + " " + a.ActorName
	case a.ActorKind != "":
		return a.ActorKind
	}
	return "unknown"
}

// addAuditOn writes e with ex (in a transaction).
func addAuditOn(ctx context.Context, ex execer, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := ex.ExecContext(ctx,
		`INSERT INTO audit (at_ms, actor_kind, actor_id, actor_name, source, action, object, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMilli(), e.ActorKind, clip(e.ActorID), clip(e.ActorName), clip(e.Source), clip(e.Action), clip(e.Object), clip(e.Summary))
	if err != nil {
		return fmt.Errorf("record audit entry %q: %w", e.Action, err)
	}
	return nil
}

const enrolmentCols = `id, hash, site, agent, description, created_by, created_at, expires_at, used_at, used_agent, used_from, token_id, revoked_at`

func scanEnrolment(r scanner) (Enrolment, error) {
	var (
		e                Enrolment
		created, expires int64
		used, revoked    sql.NullInt64
	)
	if err := r.Scan(&e.ID, &e.hash, &e.Site, &e.Agent, &e.Description, &e.CreatedBy, &created, &expires, &used,
		&e.UsedAgent, &e.UsedFrom, &e.TokenID, &revoked); err != nil {
		return Enrolment{}, err
	}
	e.CreatedAt, e.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	e.UsedAt, e.RevokedAt = unixOrZero(used), unixOrZero(revoked)
	return e, nil
}

// ListEnrolments returns every code, newest first.
func (s *DB) ListEnrolments(ctx context.Context) ([]Enrolment, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT `+enrolmentCols+` FROM enrolments ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list enrolment codes in %s: %w", s.path, err)
	}
	defer rows.Close()
	out := []Enrolment{}
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, fmt.Errorf("list enrolment codes in %s: %w", s.path, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Enrolment returns one code.
func (s *DB) Enrolment(ctx context.Context, id string) (Enrolment, bool, error) {
	e, err := scanEnrolment(s.sql.QueryRowContext(ctx, `SELECT `+enrolmentCols+` FROM enrolments WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Enrolment{}, false, nil
	}
	if err != nil {
		return Enrolment{}, false, fmt.Errorf("read enrolment code %s in %s: %w", id, s.path, err)
	}
	return e, true, nil
}

// RevokeEnrolment revokes an unused code at now (a revoked one again is
// not an error; a used one is ErrEnrolmentUsed: revoke the agent's token
// instead). audit is completed and written in the same transaction.
func (s *DB) RevokeEnrolment(ctx context.Context, id string, audit AuditEntry, now time.Time) error {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("revoke enrolment code %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE enrolments SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND used_at IS NULL`, now.Unix(), id)
	if err != nil {
		return fmt.Errorf("revoke enrolment code %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var used sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT used_at FROM enrolments WHERE id = ?`, id).Scan(&used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("revoke enrolment code %s: %w", clipText(id), ErrEnrolmentNotFound)
		case err != nil:
			return fmt.Errorf("revoke enrolment code %s: %w", id, err)
		}
		return fmt.Errorf("revoke enrolment code %s: %w (revoke the agent's token instead)", id, ErrEnrolmentUsed)
	}
	audit.At, audit.Object, audit.Summary = now, "enrolment/"+id, "revoked"
	if err := addAuditOn(ctx, tx, audit); err != nil {
		return fmt.Errorf("revoke enrolment code %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("revoke enrolment code %s: %w", id, err)
	}
	return nil
}

// Redemption is what a box sends with the code.
type Redemption struct {
	Agent    string // the name it asks for ("" none)
	Hostname string
	Version  string
	Source   string // its address, as the audit log and the code keep it
}

// Redeemed is the outcome of a redemption.
type Redeemed struct {
	Token     string // the new agent token (shown once)
	TokenInfo Token
	Enrolment Enrolment
	// Revoked is how many older tokens of the agent were revoked (a
	// code naming the agent replaces it).
	Revoked int
}

// RedeemEnrolment trades code id with secret for a new agent token, once:
// of two concurrent redemptions exactly one wins. The token is for the
// code's agent (else the one asked for) and the code's site, made in the
// same transaction that marks the code used. Errors: ErrEnrolmentInvalid
// (unknown, wrong secret, used, expired, revoked; its text is the one to
// show), ErrAgentNameNeeded or ErrBadAgentID (400), ErrAgentTaken (409;
// the code stays usable). Every outcome is in the audit log (audit names
// the actor and action; the refusal's reason is recorded there, never in
// the error the client sees).
func (s *DB) RedeemEnrolment(ctx context.Context, id, secret string, req Redemption, audit AuditEntry, now time.Time) (Redeemed, error) {
	req.Hostname, req.Version = clipField(req.Hostname), clipField(req.Version)
	audit.At, audit.Object = now, "enrolment/"+clipText(id)
	if audit.Source == "" {
		audit.Source = req.Source
	}
	refuse := func(sentinel error, reason string) (Redeemed, error) {
		audit.Summary = "refused (" + reason + "): " + redemptionText(req)
		if err := addAuditOn(context.WithoutCancel(ctx), s.sql, audit); err != nil {
			return Redeemed{}, fmt.Errorf("%w; and its audit entry failed: %w", sentinel, err)
		}
		return Redeemed{}, sentinel
	}
	e, ok, err := s.Enrolment(ctx, id)
	if err != nil {
		return Redeemed{}, err
	}
	if !ok {
		return refuse(ErrEnrolmentInvalid, "unknown code")
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], e.hash) != 1 {
		return refuse(ErrEnrolmentInvalid, "wrong secret")
	}
	if st := e.State(now); st != EnrolmentActive {
		return refuse(ErrEnrolmentInvalid, st)
	}
	agent := e.Agent
	switch {
	case agent != "":
	case req.Agent == "":
		return refuse(ErrAgentNameNeeded, "no agent name: the code names none and the box asked for none")
	case !ValidID(req.Agent):
		return refuse(ErrBadAgentID, "agent name not valid")
	default:
		agent = req.Agent
	}

	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	defer tx.Rollback()
	// The conditional update is the transaction's first statement: it
	// takes the write lock, so a concurrent redemption waits and then
	// finds the code used.
	res, err := tx.ExecContext(ctx,
		`UPDATE enrolments SET used_at = ?, used_agent = ?, used_from = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
		now.Unix(), agent, clipField(req.Source), id, now.Unix())
	if err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tx.Rollback()
		return refuse(ErrEnrolmentInvalid, "used, revoked or expired meanwhile")
	}
	var active int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM tokens WHERE role = 'agent' AND agent = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
		agent, now.Unix()).Scan(&active); err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	out := Redeemed{}
	if active > 0 {
		if e.Agent == "" {
			tx.Rollback()
			return refuse(ErrAgentTaken, fmt.Sprintf("agent %s has %d active token(s)", agent, active))
		}
		r, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE role = 'agent' AND agent = ? AND revoked_at IS NULL`, now.Unix(), agent)
		if err != nil {
			return Redeemed{}, fmt.Errorf("redeem enrolment code %s: revoke older tokens of %s: %w", id, agent, err)
		}
		n, _ := r.RowsAffected()
		out.Revoked = int(n)
	}
	desc := "enrolled with code " + e.ID
	if req.Hostname != "" {
		desc += " by host " + req.Hostname
	}
	tok, t, err := s.insertTokenOn(ctx, tx, Token{Role: RoleAgent, Agent: agent, Sites: []string{e.Site}, Description: desc}, "agent "+agent, now)
	if err != nil {
		return Redeemed{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE enrolments SET token_id = ? WHERE id = ?`, t.ID, id); err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	audit.Summary = fmt.Sprintf("redeemed: agent %s, site %s, token %s; %s", agent, e.Site, t.ID, redemptionText(req))
	if out.Revoked > 0 {
		audit.Summary += fmt.Sprintf("; %d older token(s) of %s revoked", out.Revoked, agent)
	}
	if err := addAuditOn(ctx, tx, audit); err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Redeemed{}, fmt.Errorf("redeem enrolment code %s: %w", id, err)
	}
	e.UsedAt, e.UsedAgent, e.UsedFrom, e.TokenID = time.Unix(now.Unix(), 0).UTC(), agent, clipField(req.Source), t.ID
	out.Token, out.TokenInfo, out.Enrolment = tok, t, e
	return out, nil
}

// clipField bounds a client's free text kept in a row.
func clipField(s string) string {
	if len(s) > maxEnrolmentText {
		s = s[:maxEnrolmentText]
	}
	return strings.ToValidUTF8(s, "?")
}

func redemptionText(r Redemption) string {
	return fmt.Sprintf("agent asked %q, host %q, version %q", clipText(r.Agent), clipText(r.Hostname), clipText(r.Version))
}
