package auth

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/user"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// Recorder stores audit entries (statedb.DB).
type Recorder interface {
	AddAudit(ctx context.Context, e statedb.AuditEntry) (int64, error)
}

// Entry is the audit entry of a change made by request r: its principal,
// its client address, its method and path, the object changed and a
// before/after summary (never a secret).
func Entry(r *http.Request, object, summary string) statedb.AuditEntry {
	p := FromContext(r.Context())
	if p == nil {
		p = &Principal{Kind: "unknown", ID: "", Name: ""}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return statedb.AuditEntry{ActorKind: p.Kind, ActorID: p.ID, ActorName: p.Name, Source: host,
		Action: r.Method + " " + r.URL.Path, Object: object, Summary: summary}
}

// Record stores the audit entry of a change made by request r.
func Record(ctx context.Context, db Recorder, r *http.Request, object, summary string) error {
	_, err := db.AddAudit(ctx, Entry(r, object, summary))
	return err
}

// CLIEntry is the audit entry of a change made with the command line on
// the collector's host: the actor is the operating-system user (the one
// behind sudo when there is one).
func CLIEntry(action, object, summary string) statedb.AuditEntry {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	return statedb.AuditEntry{ActorKind: "cli", ActorID: name, ActorName: name, Source: "local " + host,
		Action: "cli " + action, Object: object, Summary: summary}
}
