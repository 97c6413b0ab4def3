package fleet

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/open-telemetry/opamp-go/client/types"
	"github.com/open-telemetry/opamp-go/protobufs"
)

// memPackages is the package state opamp-go requires of an agent that
// accepts packages. The agent does not let opamp-go's syncer download
// anything (the Updater does, with its own checks), so it only remembers
// the statuses reported.
type memPackages struct {
	mu       sync.Mutex
	allHash  []byte
	statuses *protobufs.PackageStatuses
}

var _ types.PackagesStateProvider = (*memPackages)(nil)

var errNoSync = errors.New("packages are installed by the agent's updater, not synced")

func (m *memPackages) AllPackagesHash() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.allHash, nil
}

func (m *memPackages) SetAllPackagesHash(h []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.allHash = h
	return nil
}

func (m *memPackages) Packages() ([]string, error) { return nil, nil }

func (m *memPackages) PackageState(string) (types.PackageState, error) {
	return types.PackageState{}, nil
}

func (m *memPackages) SetPackageState(string, types.PackageState) error { return errNoSync }

func (m *memPackages) CreatePackage(string, protobufs.PackageType) error { return errNoSync }

func (m *memPackages) FileContentHash(string) ([]byte, error) { return nil, nil }

func (m *memPackages) UpdateContent(context.Context, string, io.Reader, []byte, []byte) error {
	return errNoSync
}

func (m *memPackages) DeletePackage(string) error { return errNoSync }

func (m *memPackages) LastReportedStatuses() (*protobufs.PackageStatuses, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statuses, nil
}

func (m *memPackages) SetLastReportedStatuses(s *protobufs.PackageStatuses) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses = s
	return nil
}
