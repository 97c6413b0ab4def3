package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Credential is what a request presents: a token, or a user's name and
// password.
type Credential struct {
	Token    string
	User     string
	Password string
}

// Present reports whether the request presented anything.
func (c Credential) Present() bool { return c.Token != "" || c.User != "" || c.Password != "" }

// ErrBadCredential is a malformed Authorization header.
var ErrBadCredential = errors.New("malformed Authorization header")

// maxCredential bounds the Authorization header the parser looks at.
const maxCredential = 4096

// tokenPrefix marks a token in a basic-auth password.
const tokenPrefix = "pantau_"

// ParseCredential reads the request's credential: "Authorization: Bearer
// <token>" (or "Token <token>", the InfluxDB form), or basic auth. In
// basic auth a password that is a Pantau token is that token (the user
// name is ignored: Grafana and Prometheus need one); otherwise it is the
// named user's password. No Authorization header is the zero Credential.
// Errors never contain the secret.
func ParseCredential(h http.Header) (Credential, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return Credential{}, nil
	}
	if len(vals) > 1 {
		return Credential{}, fmt.Errorf("%w: sent %d times", ErrBadCredential, len(vals))
	}
	a := vals[0]
	if len(a) > maxCredential {
		return Credential{}, fmt.Errorf("%w: longer than %d bytes", ErrBadCredential, maxCredential)
	}
	scheme, rest, ok := strings.Cut(strings.TrimSpace(a), " ")
	rest = strings.TrimSpace(rest)
	if !ok || rest == "" {
		return Credential{}, fmt.Errorf("%w: want \"Bearer <token>\" or \"Basic <base64>\"", ErrBadCredential)
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"), strings.EqualFold(scheme, "Token"):
		if hasSpace(rest) {
			return Credential{}, fmt.Errorf("%w: a token has no spaces", ErrBadCredential)
		}
		return Credential{Token: rest}, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Credential{}, fmt.Errorf("%w: basic credentials are not base64", ErrBadCredential)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credential{}, fmt.Errorf("%w: basic credentials have no ':'", ErrBadCredential)
		}
		if strings.HasPrefix(pass, tokenPrefix) {
			if hasSpace(pass) {
				return Credential{}, fmt.Errorf("%w: a token has no spaces", ErrBadCredential)
			}
			return Credential{Token: pass}, nil
		}
		if user == "" || pass == "" {
			return Credential{}, fmt.Errorf("%w: basic auth needs a user name and a password (or a token as the password)", ErrBadCredential)
		}
		return Credential{User: user, Password: pass}, nil
	}
	return Credential{}, fmt.Errorf("%w: unknown scheme (use Bearer or Basic)", ErrBadCredential)
}

// hasSpace reports whether s has any white space (a token has none).
func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }
