package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/fleet"
)

// cmdRelease creates the release signing key and signs agent releases
// into the release store the collector offers them from.
func cmdRelease(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: keygen or sign")}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "keygen":
		fs := newFlagSet("release keygen", "release keygen --out-dir DIR", stderr)
		dir := fs.String("out-dir", "", "directory for "+fleet.PrivateKeyFile+" (0600, keep it off the collector if you can) and "+fleet.PublicKeyFile+" (every agent's update.public_key_file)")
		if err := parse(fs, rest); err != nil {
			return err
		}
		if *dir == "" {
			return usageError{errors.New("--out-dir is required")}
		}
		priv, pub, err := fleet.Keygen(*dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "private key: %s\npublic key:  %s\n", priv, pub)
		return nil
	case "sign":
		var st stateFlags
		fs := newFlagSet("release sign", "release sign --key K --binary B --version V [--os linux --arch amd64] [--data-dir D | --config F]", stderr)
		st.register(fs)
		key := fs.String("key", "", "the release signing key ("+fleet.PrivateKeyFile+" from release keygen)")
		bin := fs.String("binary", "", "the pantau-agent binary to release")
		version := fs.String("version", "", "its version, as the agent reports it (pantau-agent --version)")
		goos := fs.String("os", runtime.GOOS, "the platform's GOOS")
		goarch := fs.String("arch", runtime.GOARCH, "the platform's GOARCH")
		if err := parse(fs, rest); err != nil {
			return err
		}
		if *key == "" || *bin == "" || *version == "" {
			return usageError{errors.New("--key, --binary and --version are required")}
		}
		cfg, err := st.c.load()
		if err != nil {
			return err
		}
		dir := filepath.Join(cfg.DataDir, "releases")
		m, err := fleet.SignRelease(*key, *bin, *version, *goos, *goarch, dir, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signed %s for %s/%s (sha256 %s, %d bytes) into %s; offered when fleet.updates.enabled\n",
			m.Version, m.OS, m.Arch, m.SHA256, m.Size, dir)
		return nil
	}
	return usageError{fmt.Errorf("unknown subcommand %q: use keygen or sign", sub)}
}
