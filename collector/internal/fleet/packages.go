package fleet

import (
	"bytes"
	"crypto/sha256"
	"log/slog"
	"net/url"
	"time"

	"github.com/open-telemetry/opamp-go/protobufs"

	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// offerPackage offers the newest signed release for the agent's
// platform when fleet.updates.enabled, the agent accepts packages (it
// runs with update.enabled) and the release's version differs from the
// agent's; not again once the agent reports it has the offer. An agent
// that does not accept packages is offered nothing and its update state
// is left alone.
func (c *call) offerPackage(st *agentState, resp *protobufs.ServerToAgent, now time.Time, log *slog.Logger) {
	s := c.s
	if s.o.Releases == nil || !s.o.UpdatesEnabled() || !st.acceptsPackages || st.osType == "" || st.arch == "" {
		return
	}
	m, err := s.o.Releases.Newest(st.osType, st.arch, now)
	if err != nil {
		log.Warn("listing releases failed", "err", err)
		return
	}
	if m == nil || m.Version == st.rec.Version {
		return
	}
	all := packagesHash(m)
	if bytes.Equal(st.packagesHash, all) {
		return
	}
	file := &protobufs.DownloadableFile{
		DownloadUrl: c.base + fleetproto.ReleasesPath + url.PathEscape(m.Version) + "/" + m.OS + "-" + m.Arch,
		ContentHash: m.Sum(),
		Signature:   m.Signature,
	}
	if c.authz != "" {
		file.Headers = &protobufs.Headers{Headers: []*protobufs.Header{{Key: "Authorization", Value: c.authz}}}
	}
	resp.PackagesAvailable = &protobufs.PackagesAvailable{
		Packages: map[string]*protobufs.PackageAvailable{fleetproto.PackageName: {
			Type: protobufs.PackageType_PackageType_TopLevel, Version: m.Version, File: file, Hash: all,
		}},
		AllPackagesHash: all,
	}
	if st.rec.UpdateVersion != m.Version || st.rec.UpdateState == "" {
		s.m.packageOffers.Inc()
		st.rec.UpdateState, st.rec.UpdateVersion, st.rec.UpdateMessage = "offered", m.Version, ""
		log.Info("agent update offered", "version", m.Version, "os", m.OS, "arch", m.Arch)
	}
}

// packagesHash identifies an offer.
func packagesHash(m *Manifest) []byte {
	h := sha256.New()
	h.Write([]byte(fleetproto.PackageName + "\x00" + m.Version + "\x00" + m.OS + "/" + m.Arch + "\x00" + m.SHA256))
	return h.Sum(nil)
}
