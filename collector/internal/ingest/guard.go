package ingest

import "github.com/pantau-noc/pantau/collector/internal/auth"

// The failed-authentication guard is the auth package's; the daemon
// shares one between the write API and the rest of the HTTP API
// (Options.Guard).
type authGuard = auth.Guard

var (
	sourceOf = auth.SourceOf
	tokenID  = auth.TokenID
)

func newAuthGuard(limit, size int) *authGuard { return auth.NewGuard(limit, size) }
