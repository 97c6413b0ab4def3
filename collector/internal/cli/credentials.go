package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/auth"
	"github.com/pantau-noc/pantau/collector/internal/fleet"
)

// cmdCredentials sets, lists and deletes SNMP credential profiles, sealed
// with the credentials key file.
func cmdCredentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("missing subcommand: set, list or delete")}
	}
	sub, rest := args[0], args[1:]
	var st stateFlags
	fs := newFlagSet("credentials "+sub, "credentials "+sub+" [flags]", stderr)
	st.register(fs)
	var o credentialFlags
	keyFile := fs.String("credentials-key-file", "", "the key that seals profiles (default: fleet.credentials_key_file, else <data-dir>/credentials.key; created on first use)")
	switch sub {
	case "set":
		o.register(fs)
	case "delete":
		fs.StringVar(&o.site, "site", "", "the profile's site (an inventory site id, or * for every site)")
		fs.StringVar(&o.profile, "profile", "", "the profile's name")
	case "list":
	default:
		return usageError{fmt.Errorf("unknown subcommand %q: use set, list or delete", sub)}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	var p *fleet.Profile
	if sub == "set" {
		var err error
		if p, err = o.profileOf(); err != nil {
			return usageError{err}
		}
	}
	if sub != "list" {
		if err := fleet.ValidProfileRef(o.site, o.profile); err != nil {
			return usageError{err}
		}
	}
	cfg, db, err := st.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var store fleet.CredentialStore = db
	if *keyFile == "" {
		*keyFile = cfg.CredentialsKeyFile()
	}
	return runCredentials(ctx, store, *keyFile, sub, o, p, stdout, stderr)
}

// runCredentials runs a credentials subcommand on a store.
func runCredentials(ctx context.Context, store fleet.CredentialStore, keyFile, sub string, o credentialFlags, p *fleet.Profile, stdout, stderr io.Writer) error {
	by := auth.CLIEntry("credentials "+sub, "", "").ActorName
	switch sub {
	case "set":
		k, err := fleet.LoadKey(keyFile, true)
		if err != nil {
			return err
		}
		sealed, err := k.Seal(o.site, o.profile, p)
		if err != nil {
			return err
		}
		if err := store.PutCredentialProfile(ctx, o.site, o.profile, sealed, "cli "+by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "credential profile %s/%s (SNMP v%s) sealed with %s\n", o.site, o.profile, p.Version, k.File())
	case "delete":
		if err := store.DeleteCredentialProfile(ctx, o.site, o.profile, "cli "+by); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted credential profile %s/%s\n", o.site, o.profile)
	case "list":
		list, err := store.ListCredentialProfiles(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SITE\tPROFILE\tUPDATED")
		for _, i := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Site, i.Name, i.UpdatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return nil
}

// credentialFlags are credentials set's flags.
type credentialFlags struct {
	site, profile, version, communityFile, username, securityLevel string
	authProtocol, authFile, privProtocol, privFile, contextName    string
}

func (o *credentialFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.site, "site", "", "the profile's site (an inventory site id), or * for every site without its own")
	fs.StringVar(&o.profile, "profile", "default", "the profile's name, as a device's snmp.profile names it")
	fs.StringVar(&o.version, "version", "", "SNMP version: 2c or 3")
	fs.StringVar(&o.communityFile, "community-file", "", "version 2c: file holding the community (never on the command line)")
	fs.StringVar(&o.username, "username", "", "version 3: the USM user name")
	fs.StringVar(&o.securityLevel, "security-level", "", "version 3: noAuthNoPriv, authNoPriv or authPriv (default: from the passphrases given)")
	fs.StringVar(&o.authProtocol, "auth-protocol", "", "version 3: MD5, SHA, SHA224, SHA256, SHA384 or SHA512 (the agent's default: SHA)")
	fs.StringVar(&o.authFile, "auth-passphrase-file", "", "version 3: file holding the auth passphrase")
	fs.StringVar(&o.privProtocol, "priv-protocol", "", "version 3: DES, AES, AES192, AES256, AES192C or AES256C (the agent's default: AES)")
	fs.StringVar(&o.privFile, "priv-passphrase-file", "", "version 3: file holding the priv passphrase")
	fs.StringVar(&o.contextName, "context-name", "", "version 3: the SNMP context name")
}

// maxSecretFile bounds a secret file read.
const maxSecretFile = 4096

func readSecret(flagName, path string) (fleet.Secret, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("--%s: read %s: %w", flagName, path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("--%s: %s is larger than %d bytes", flagName, path, maxSecretFile)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return "", fmt.Errorf("--%s: %s is empty", flagName, path)
	}
	return fleet.Secret(b), nil
}

func (o *credentialFlags) profileOf() (*fleet.Profile, error) {
	p := &fleet.Profile{Version: o.version, Username: o.username, SecurityLevel: o.securityLevel,
		AuthProtocol: o.authProtocol, PrivProtocol: o.privProtocol, ContextName: o.contextName}
	var err error
	if p.Community, err = readSecret("community-file", o.communityFile); err != nil {
		return nil, err
	}
	if p.AuthPassphrase, err = readSecret("auth-passphrase-file", o.authFile); err != nil {
		return nil, err
	}
	if p.PrivPassphrase, err = readSecret("priv-passphrase-file", o.privFile); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}
