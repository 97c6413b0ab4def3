package update

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// LoadPublicKey reads the release public key file (update.public_key_file):
// an ed25519 key as PEM "PUBLIC KEY" (PKIX), as `pantau-collector release
// keygen` writes it.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, errors.New("update.public_key_file is not set")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the release public key %s (update.public_key_file): %w", path, err)
	}
	k, err := fleetproto.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("release public key %s (update.public_key_file): %w", path, err)
	}
	return k, nil
}
