package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/plugins/internal/svccheck"
	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Measurement is the measurement name of the points Probe returns.
const Measurement = "tcp"

// DefaultTimeout bounds a check whose context has no deadline.
const DefaultTimeout = svccheck.DefaultTimeout

// Probe runs one TCP check against c and returns exactly one point. It
// never panics. On failure the point has up=0 and an "error" field with a
// short reason; the fields measured before the failure are kept. The
// context's deadline bounds the whole check: dial, TLS handshake, send and
// read. now supplies the point time and the reference for the certificate
// expiry; nil means time.Now.
func Probe(ctx context.Context, c Config, now func() time.Time) []sdk.Point {
	return svccheck.Run(ctx, Measurement, now,
		func(tags map[string]string) error {
			verr := c.Validate()
			target := strings.TrimSpace(c.Name)
			if target == "" {
				target = c.Address
			}
			if target == "" {
				target = "unknown"
			}
			tags["target"] = target
			tags["address"] = c.Address
			return verr
		},
		func(ctx context.Context, now func() time.Time, f map[string]any) error { return check(ctx, &c, now, f) })
}

func check(ctx context.Context, c *Config, now func() time.Time, f map[string]any) error {
	var tlsConf *tls.Config
	if c.TLS {
		var err error
		if tlsConf, err = svccheck.TLSConfig(c.ServerName, c.InsecureSkipVerify, c.RootCAs, c.CAFile); err != nil {
			return err
		}
	}

	var d net.Dialer
	start := time.Now()
	raw, err := d.DialContext(ctx, "tcp", c.Address)
	if err != nil {
		return errors.New(svccheck.Reason(ctx, err, "during connect"))
	}
	f["connect_seconds"] = time.Since(start).Seconds()

	// The deadline covers plain reads and writes; AfterFunc also unblocks
	// them if ctx is canceled before its deadline.
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		raw.Close()
		return fmt.Errorf("set deadline on connection to %s: %w", c.Address, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var conn net.Conn = raw
	defer func() { conn.Close() }()

	if c.TLS {
		tc := tls.Client(raw, tlsConf)
		conn = tc
		hsStart := time.Now()
		err := tc.HandshakeContext(ctx)
		f["tls_handshake_seconds"] = time.Since(hsStart).Seconds()
		if err != nil {
			return errors.New(svccheck.Reason(ctx, err, "during TLS handshake"))
		}
		st := tc.ConnectionState()
		f["tls_version"] = tls.VersionName(st.Version)
		if len(st.PeerCertificates) > 0 {
			f["tls_cert_expiry_seconds"] = st.PeerCertificates[0].NotAfter.Sub(now()).Seconds()
		}
	}

	if c.Send != "" {
		if _, err := io.WriteString(conn, c.Send); err != nil {
			return errors.New(svccheck.Reason(ctx, err, "sending"))
		}
	}

	if c.expectRE == nil {
		return nil
	}
	matched, err := readMatch(conn, c)
	f["response_match"] = svccheck.BoolInt(matched)
	if matched {
		return nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return errors.New(svccheck.Reason(ctx, err, "waiting for response"))
	}
	return errors.New("response did not match")
}

// readMatch reads until c.expectRE matches what was received, the server
// closes the connection, MaxResponseBytes have been read or an error
// occurs.
func readMatch(conn net.Conn, c *Config) (bool, error) {
	buf := make([]byte, 0, MaxResponseBytes)
	for len(buf) < MaxResponseBytes {
		n, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 && c.expectRE.Match(buf) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}
