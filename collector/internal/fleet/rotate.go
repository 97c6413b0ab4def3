package fleet

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// rotationDescription marks the tokens a rotation creates: after a
// restart of the collector, an unused one is found by it and revoked.
const rotationDescription = "fleet rotation of agent "

// rotate carries a token rotation forward (agents rotate marks it):
//
//   - the agent authenticated with the token issued to it: revoke the
//     token it used before, clear the request, audit;
//   - a rotation is requested and none is in flight: create a token for
//     the same agent and sites, revoke any earlier rotation token it
//     never used (a collector restart lost its secret), audit;
//   - a token is in flight: (re)send it in the connection settings.
//
// The new token's secret lives only in memory until the agent uses it.
func (c *call) rotate(ctx context.Context, st *agentState, resp *protobufs.ServerToAgent, log *slog.Logger) {
	s := c.s
	agent, used := c.principal.Name, c.principal.ID
	if r := st.rotation; r != nil && used == r.newID {
		if err := s.o.Store.RevokeToken(ctx, r.oldID); err != nil {
			s.m.storeErrors.Inc()
			log.Error("revoking the agent's old token after rotation failed; will retry", "token_id", r.oldID, "err", err)
			return
		}
		if err := s.o.Store.ClearRotation(ctx, agent); err != nil {
			s.m.storeErrors.Inc()
			log.Error("clearing the agent's rotation request failed", "err", err)
		}
		st.rotation = nil
		s.m.rotations.WithLabelValues("completed").Inc()
		c.audit(ctx, agent, "fleet rotate complete", fmt.Sprintf("agent switched to token %s; old token %s revoked", r.newID, r.oldID), log)
		log.Info("token rotation completed", "token_id", r.newID, "revoked_token_id", r.oldID)
		return
	}
	if st.rotation == nil {
		want, err := s.o.Store.RotationRequested(ctx, agent)
		if err != nil {
			s.m.storeErrors.Inc()
			log.Error("reading the agent's rotation request failed", "err", err)
			return
		}
		if !want {
			return
		}
		toks, err := s.o.Store.ListTokens(ctx)
		if err != nil {
			s.m.storeErrors.Inc()
			log.Error("listing tokens for a rotation failed", "err", err)
			return
		}
		// A collector restart after the agent switched but before the old
		// token was revoked: the agent uses a rotation token and other
		// tokens of it are still active. Finish that rotation.
		var usedTok *statedb.Token
		var others []string
		for i := range toks {
			t := &toks[i]
			if t.Role != statedb.RoleAgent || t.Agent != agent || !t.RevokedAt.IsZero() {
				continue
			}
			if t.ID == used {
				usedTok = t
			} else {
				others = append(others, t.ID)
			}
		}
		if usedTok != nil && strings.HasPrefix(usedTok.Description, rotationDescription) && len(others) > 0 {
			slices.Sort(others)
			for _, id := range others {
				if err := s.o.Store.RevokeToken(ctx, id); err != nil {
					s.m.storeErrors.Inc()
					log.Error("revoking the agent's old token after rotation failed; will retry", "token_id", id, "err", err)
					return
				}
			}
			if err := s.o.Store.ClearRotation(ctx, agent); err != nil {
				s.m.storeErrors.Inc()
				log.Error("clearing the agent's rotation request failed", "err", err)
			}
			s.m.rotations.WithLabelValues("completed").Inc()
			c.audit(ctx, agent, "fleet rotate complete", fmt.Sprintf("agent uses token %s; tokens %s revoked", used, strings.Join(others, ", ")), log)
			return
		}
		// Rotation tokens issued before a restart and never used.
		for i := range toks {
			t := &toks[i]
			if t.Agent == agent && t.ID != used && t.RevokedAt.IsZero() && strings.HasPrefix(t.Description, rotationDescription) {
				if err := s.o.Store.RevokeToken(ctx, t.ID); err != nil {
					s.m.storeErrors.Inc()
					log.Error("revoking an unused rotation token failed", "token_id", t.ID, "err", err)
					return
				}
				c.audit(ctx, agent, "fleet rotate revoke-unused", fmt.Sprintf("token %s issued by an earlier rotation was never used; revoked", t.ID), log)
			}
		}
		tok, t, err := s.o.Store.CreateToken(ctx, agent, c.principal.Sites, rotationDescription+agent+" (replaces "+used+")")
		if err != nil {
			s.m.storeErrors.Inc()
			log.Error("creating the agent's new token failed", "err", err)
			return
		}
		st.rotation = &rotation{newID: t.ID, token: tok, oldID: used}
		s.m.rotations.WithLabelValues("issued").Inc()
		c.audit(ctx, agent, "fleet rotate issue", fmt.Sprintf("token %s issued to replace %s; sent over OpAMP", t.ID, used), log)
		log.Info("token rotation issued", "token_id", t.ID, "old_token_id", used)
	}
	r := st.rotation
	sum := sha256.Sum256([]byte(r.newID))
	resp.ConnectionSettings = &protobufs.ConnectionSettingsOffers{
		Hash: sum[:],
		Opamp: &protobufs.OpAMPConnectionSettings{
			Headers:                  &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: "Token " + r.token}}},
			HeartbeatIntervalSeconds: uint64(s.o.HeartbeatInterval.Seconds()),
		},
	}
}

func (c *call) audit(ctx context.Context, agent, action, summary string, log *slog.Logger) {
	_, err := c.s.o.Store.AddAudit(ctx, statedb.AuditEntry{ActorKind: "token", ActorID: c.principal.ID, ActorName: agent,
		Source: "opamp", Action: action, Object: "agent/" + agent, Summary: summary})
	if err != nil {
		c.s.m.storeErrors.Inc()
		log.Error("recording the audit entry failed", "action", action, "err", err)
	}
}
