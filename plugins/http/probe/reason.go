package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// reason turns a transport error into a short, stable description for the
// "error" field. phase names the part of the exchange that was running,
// phrased to follow "timeout", e.g. "during connect" or "reading body".
func reason(ctx context.Context, err error, phase string) string {
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
