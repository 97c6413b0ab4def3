// Package svccheck holds what the bundled service-check plugins share: the
// short reason of a failed check, the TLS client configuration from a
// target's settings, and small helpers.
package svccheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/pantau-noc/pantau/plugins/sdk"
)

// Reason turns a transport error into a short, stable description for the
// "error" field. phase names the part of the exchange that was running,
// phrased to follow "timeout", e.g. "during connect" or "reading body".
func Reason(ctx context.Context, err error, phase string) string {
	var (
		dnsErr    *net.DNSError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		recErr    tls.RecordHeaderError
		alert     tls.AlertError
		netErr    net.Error
	)
	switch {
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return "canceled " + phase
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout(),
		errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout " + phase
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.As(err, &dnsErr):
		return "DNS lookup failed: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset " + phase
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &unknownCA):
		return "TLS certificate signed by unknown authority"
	case errors.As(err, &hostErr):
		return "TLS certificate not valid for " + hostErr.Host
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "TLS certificate expired or not yet valid: " + invalid.Detail
	case errors.As(err, &invalid):
		return "TLS certificate invalid: " + strings.TrimPrefix(invalid.Error(), "x509: ")
	case errors.As(err, &recErr):
		return "TLS handshake failed: server did not answer with TLS"
	case errors.As(err, &alert):
		return "TLS handshake failed: " + alert.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server " + phase
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// DefaultTimeout bounds a check whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// Run makes the one point of a check and never panics. prepare validates
// the target's config and sets the point's tags (also for a config that
// is not valid); its error fails the check without running it. check
// measures into the fields and returns why the check failed. The point
// has up=1, or up=0 and a short "error" field; a panic fails the check.
func Run(ctx context.Context, measurement string, now func() time.Time,
	prepare func(tags map[string]string) error,
	check func(ctx context.Context, now func() time.Time, fields map[string]any) error) (points []sdk.Point) {
	if now == nil {
		now = time.Now
	}
	pt := sdk.Point{Measurement: measurement, Tags: map[string]string{}, Fields: map[string]any{}, Time: now()}
	defer func() {
		if r := recover(); r != nil {
			fail(&pt, fmt.Sprintf("internal error: %v", r))
			points = []sdk.Point{pt}
		}
	}()
	if err := prepare(pt.Tags); err != nil {
		fail(&pt, err.Error())
		return []sdk.Point{pt}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if err := check(ctx, now, pt.Fields); err != nil {
		fail(&pt, err.Error())
	} else {
		pt.Fields["up"] = int64(1)
	}
	return []sdk.Point{pt}
}

func fail(pt *sdk.Point, reason string) {
	pt.Fields["up"] = int64(0)
	if len(reason) > 256 {
		reason = reason[:253] + "..."
	}
	pt.Fields["error"] = reason
}

// MaxCAFileBytes caps how much of a CA file is read.
const MaxCAFileBytes = 4 << 20

// TLSConfig is the client TLS configuration of a target: roots (tests)
// replace the system roots, caFile adds to them.
func TLSConfig(serverName string, insecure bool, roots *x509.CertPool, caFile string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, InsecureSkipVerify: insecure}
	switch {
	case roots != nil:
		tc.RootCAs = roots
	case caFile != "":
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := readLimited(caFile, MaxCAFileBytes)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates found", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// BoolInt is 1 for true, 0 for false.
func BoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
