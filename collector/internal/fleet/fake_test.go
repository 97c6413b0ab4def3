package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// fakeStore is statedb for tokens and audit (the real tables) and an
// in-memory fleet state, until statedb has the fleet tables.
type fakeStore struct {
	*statedb.DB
	mu        sync.Mutex
	agents    map[string]FleetAgent
	upserts   int
	overrides map[string]string
	rotations map[string]bool
	creds     map[[2]string][]byte
}

var _ Store = (*fakeStore)(nil)

func newFakeStore(t *testing.T) *fakeStore {
	t.Helper()
	db, err := statedb.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fakeStore{DB: db, agents: map[string]FleetAgent{}, overrides: map[string]string{}, rotations: map[string]bool{}, creds: map[[2]string][]byte{}}
}

func (f *fakeStore) UpsertFleetAgent(_ context.Context, a FleetAgent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.agents[a.Agent] = a
	f.upserts++
	return nil
}

func (f *fakeStore) FleetAgent(_ context.Context, agent string) (FleetAgent, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.agents[agent]
	return a, ok, nil
}

func (f *fakeStore) agent(name string) FleetAgent {
	a, _, _ := f.FleetAgent(context.Background(), name)
	return a
}

func (f *fakeStore) FleetOverride(_ context.Context, agent string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	y, ok := f.overrides[agent]
	return y, ok, nil
}

func (f *fakeStore) setOverride(agent, y string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overrides[agent] = y
}

func (f *fakeStore) RequestRotation(_ context.Context, agent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotations[agent] = true
}

func (f *fakeStore) RotationRequested(_ context.Context, agent string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rotations[agent], nil
}

func (f *fakeStore) ClearRotation(_ context.Context, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rotations, agent)
	return nil
}

func (f *fakeStore) PutCredentialProfile(_ context.Context, site, name string, sealed []byte, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds[[2]string{site, name}] = slices.Clone(sealed)
	return nil
}

func (f *fakeStore) CredentialProfile(_ context.Context, site, name string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.creds[[2]string{site, name}]
	return slices.Clone(s), ok, nil
}

func (f *fakeStore) ListCredentialProfiles(context.Context) ([]CredentialProfileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []CredentialProfileInfo
	for k := range f.creds {
		out = append(out, CredentialProfileInfo{Site: k[0], Name: k[1], UpdatedAt: time.Unix(0, 0)})
	}
	slices.SortFunc(out, func(a, b CredentialProfileInfo) int {
		if a.Site != b.Site {
			if a.Site < b.Site {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

var errNoProfile = errors.New("no such credential profile")

func (f *fakeStore) DeleteCredentialProfile(_ context.Context, site, name, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.creds[[2]string{site, name}]; !ok {
		return errNoProfile
	}
	delete(f.creds, [2]string{site, name})
	return nil
}
