package fleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pantau-noc/pantau/agent/internal/config"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// EnrollOptions are the inputs of Enroll.
type EnrollOptions struct {
	CollectorURL string // the collector's base URL
	Code         string // the enrolment code's text
	StateDir     string
	Agent        string // the agent id asked for ("": the code's or the collector's choice)
	Hostname     string
	Version      string
	// RootCAs verify an https collector when the code carries no pin
	// (nil: the system's roots).
	RootCAs *tls.Config
}

// Errors of Enroll an operator acts on.
var (
	ErrCodeRefused = errors.New("enrolment code unknown, used or expired")
	ErrPlainPinned = errors.New("the enrolment code pins the collector's TLS certificate, but the collector URL is plain http://")
)

// Enroll trades a one-time code for the agent's own token: on https the
// first contact is pinned to the code's certificate pin. It stores the
// token (0600), the pinned certificate as collector-ca.pem (trusted from
// then on) and fleet.json in the state directory, each atomically.
func Enroll(ctx context.Context, o EnrollOptions) (State, error) {
	code, err := fleetproto.ParseCode(o.Code)
	if err != nil {
		return State{}, err
	}
	base, err := url.Parse(strings.TrimRight(o.CollectorURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return State{}, fmt.Errorf("collector URL %q: must be http:// or https:// with a host", o.CollectorURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	switch {
	case base.Scheme == "http" && len(code.Pin) > 0:
		return State{}, fmt.Errorf("%w: use the collector's https:// URL (%s)", ErrPlainPinned, o.CollectorURL)
	case len(code.Pin) > 0:
		tr.TLSClientConfig = fleetproto.PinnedTLS(code.Pin)
	case o.RootCAs != nil:
		tr.TLSClientConfig = o.RootCAs
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body, _ := json.Marshal(fleetproto.EnrollRequest{Code: code.String(), Agent: o.Agent, Hostname: o.Hostname, Version: o.Version})
	u := base.String() + fleetproto.EnrollPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return State{}, fmt.Errorf("enrol at %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pantau-agent")
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, fleetproto.ErrPinMismatch) {
			return State{}, fmt.Errorf("enrol at %s: the collector's certificate does not match the enrolment code "+
				"(wrong URL, a code of another collector, or someone in between): %w", base.Host, fleetproto.ErrPinMismatch)
		}
		return State{}, fmt.Errorf("enrol at %s: %w", u, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return State{}, fmt.Errorf("enrol at %s: %w; ask for a new code (pantau-collector enroll create)", base.Host, ErrCodeRefused)
	case http.StatusConflict:
		return State{}, fmt.Errorf("enrol at %s: the agent name is taken by another enrolled agent: %s", base.Host, message(msg))
	case http.StatusTooManyRequests:
		return State{}, fmt.Errorf("enrol at %s: too many failed enrolment tries from this address; wait %s and try again: %s",
			base.Host, orDefault(resp.Header.Get("Retry-After")+"s", "a while"), message(msg))
	default:
		return State{}, fmt.Errorf("enrol at %s: %s: %s", base.Host, resp.Status, message(msg))
	}
	var er fleetproto.EnrollResponse
	if err := json.Unmarshal(msg, &er); err != nil || er.Token == "" || er.Agent == "" {
		return State{}, fmt.Errorf("enrol at %s: the answer is not an enrolment (no token or agent): %.200s", base.Host, msg)
	}
	opamp, err := base.Parse(orDefault(er.OpAMPURL, fleetproto.OpAMPPath))
	if err != nil {
		return State{}, fmt.Errorf("enrol at %s: bad OpAMP URL %q: %w", base.Host, er.OpAMPURL, err)
	}
	// The certificate first: a token without the means to reach the
	// collector again would be useless.
	caPath := Path(o.StateDir, config.CollectorCAFile)
	if len(code.Pin) > 0 {
		if resp.TLS == nil {
			return State{}, fmt.Errorf("enrol at %s: no TLS connection state", base.Host)
		}
		cert, err := fleetproto.PinnedCert(*resp.TLS, code.Pin)
		if err != nil {
			return State{}, err
		}
		if err := WriteFileAtomic(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
			return State{}, err
		}
	} else if err := os.Remove(caPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return State{}, fmt.Errorf("remove the previous collector certificate: %w", err)
	}
	if err := WriteToken(o.StateDir, config.Secret(er.Token)); err != nil {
		return State{}, err
	}
	uid, err := uuid.NewV7()
	if err != nil {
		return State{}, err
	}
	st := State{CollectorURL: base.String(), OpAMPURL: opamp.String(), Agent: er.Agent, Site: er.Site,
		InstanceUID: uid.String(), EnrolledAt: time.Now().UTC()}
	if err := SaveState(o.StateDir, st); err != nil {
		return State{}, err
	}
	return st, nil
}

func message(b []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" || s == "s" {
		return def
	}
	return s
}
