package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
	"github.com/pantau-noc/pantau/internal/fleetproto"
)

// MaxEnrollBody bounds a POST /api/v1/enroll body: a code, a name, a
// host name and a version fit many times over.
const MaxEnrollBody = 4096

// maxEnrollText bounds the host name and version a box sends.
const maxEnrollText = 256

// ParseEnrollRequest reads a POST /api/v1/enroll body: one JSON object,
// no unknown fields, a well-formed code, a valid agent name if one is
// asked for, and a printable host name and version of at most 256 bytes.
// Its errors name the problem and never contain the code's secret.
func ParseEnrollRequest(body []byte) (fleetproto.EnrollRequest, fleetproto.Code, error) {
	var q fleetproto.EnrollRequest
	if len(body) > MaxEnrollBody {
		return q, fleetproto.Code{}, fmt.Errorf("body larger than %d bytes", MaxEnrollBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return q, fleetproto.Code{}, errors.New("empty body: send a JSON object with \"code\"")
		case errors.As(err, &se):
			return q, fleetproto.Code{}, fmt.Errorf("JSON syntax error at byte %d", se.Offset)
		case errors.As(err, &te):
			return q, fleetproto.Code{}, fmt.Errorf("field %q: want %s", te.Field, te.Type)
		}
		// Unknown fields and the like: the decoder's message quotes a
		// field name, never a value.
		return q, fleetproto.Code{}, fmt.Errorf("bad JSON body: %s", clipParam(err.Error()))
	}
	if dec.More() {
		return q, fleetproto.Code{}, errors.New("trailing data after the JSON object")
	}
	if q.Code == "" {
		return q, fleetproto.Code{}, errors.New(`"code": missing: send the enrolment code (PNT1-...)`)
	}
	c, err := fleetproto.ParseCode(q.Code)
	if err != nil {
		return q, fleetproto.Code{}, fmt.Errorf(`"code": %w`, err)
	}
	if q.Agent != "" && !statedb.ValidID(q.Agent) {
		return q, c, fmt.Errorf(`"agent": %q is not valid: use 1-128 letters, digits, '.', '_' or '-'`, clipParam(q.Agent))
	}
	for _, f := range []struct{ name, v string }{{"hostname", q.Hostname}, {"version", q.Version}} {
		if len(f.v) > maxEnrollText {
			return q, c, fmt.Errorf("%q: longer than %d bytes", f.name, maxEnrollText)
		}
		if strings.IndexFunc(f.v, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) >= 0 {
			return q, c, fmt.Errorf("%q: only printable characters", f.name)
		}
	}
	return q, c, nil
}

// EnrolmentRequest is the body of POST /api/v1/enrollments.
type EnrolmentRequest struct {
	Site        string `json:"site"`
	Agent       string `json:"agent"`
	Valid       string `json:"valid"` // a duration: 24h, 7d; empty: 24h
	Description string `json:"description"`
}

// ParseValidity reads an enrolment code's validity: a Go duration (90m,
// 24h) or whole days (7d), from 1 minute to 30 days; empty is 24 hours.
func ParseValidity(s string) (time.Duration, error) {
	if s == "" {
		return statedb.DefaultEnrolmentValidity, nil
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 30 {
			return 0, fmt.Errorf("%q: days must be a whole number from 1 to 30", clipParam(s))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: use a duration like 24h, 90m or 7d", clipParam(s))
		}
	}
	if d < statedb.MinEnrolmentValidity || d > statedb.MaxEnrolmentValidity {
		return 0, fmt.Errorf("%q: use from 1m to 30d", clipParam(s))
	}
	return d, nil
}

// Spec checks the request and returns the code's spec; known reports
// whether a site is in the inventory (nil: not checked).
func (q EnrolmentRequest) Spec(known func(site string) bool) (statedb.EnrolmentSpec, error) {
	if !statedb.ValidID(q.Site) {
		return statedb.EnrolmentSpec{}, fmt.Errorf(`"site": %q is not valid: use 1-128 letters, digits, '.', '_' or '-'`, clipParam(q.Site))
	}
	if known != nil && !known(q.Site) {
		return statedb.EnrolmentSpec{}, fmt.Errorf(`"site": %q is not in the inventory (GET /api/v1/inventory lists the sites)`, q.Site)
	}
	if q.Agent != "" && !statedb.ValidID(q.Agent) {
		return statedb.EnrolmentSpec{}, fmt.Errorf(`"agent": %q is not valid: use 1-128 letters, digits, '.', '_' or '-'`, clipParam(q.Agent))
	}
	d, err := ParseValidity(q.Valid)
	if err != nil {
		return statedb.EnrolmentSpec{}, fmt.Errorf(`"valid": %w`, err)
	}
	if len(q.Description) > 256 {
		return statedb.EnrolmentSpec{}, errors.New(`"description": longer than 256 bytes`)
	}
	return statedb.EnrolmentSpec{Site: q.Site, Agent: q.Agent, Valid: d, Description: q.Description}, nil
}

// Override keys: the top-level keys of agent.yml a remote config (and
// so an override) may carry (docs/fleet.md).
var overrideKeys = []string{"agent", "defaults", "icmp", "snmp", "plugins"}

// maxOverrideNodes bounds the YAML nodes of an override.
const maxOverrideNodes = 20000

// ValidateOverride checks an agent's config override: a YAML mapping of
// at most statedb.MaxOverrideBytes with only the keys the contract
// allows (agent with only site; defaults a mapping; icmp, snmp and
// plugins lists of mappings each with a unique name), no anchors or
// aliases. Errors carry the line.
func ValidateOverride(b []byte) error {
	if len(b) > statedb.MaxOverrideBytes {
		return fmt.Errorf("override larger than %d bytes", statedb.MaxOverrideBytes)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty override: give a YAML mapping (an agent.yml fragment)")
		}
		return fmt.Errorf("not YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document: give one")
	}
	nodes := 0
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		nodes++
		if nodes > maxOverrideNodes {
			return fmt.Errorf("more than %d YAML nodes", maxOverrideNodes)
		}
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			return fmt.Errorf("line %d: anchors and aliases are not allowed in an override", n.Line)
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&doc); err != nil {
		return err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the override is not a mapping: give top-level keys %s", doc.Line, strings.Join(overrideKeys, ", "))
	}
	m := doc.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if seen[k.Value] {
			return fmt.Errorf("line %d: %q given twice", k.Line, clipParam(k.Value))
		}
		seen[k.Value] = true
		switch k.Value {
		case "agent":
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: agent: want a mapping with only site", v.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j].Value != "site" {
					return fmt.Errorf("line %d: agent.%s: an override sets only agent.site (the rest is the box's own agent.yml)", v.Content[j].Line, clipParam(v.Content[j].Value))
				}
				if s := v.Content[j+1]; s.Kind != yaml.ScalarNode || !statedb.ValidID(s.Value) {
					return fmt.Errorf("line %d: agent.site: want a site id", s.Line)
				}
			}
		case "defaults":
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: defaults: want a mapping", v.Line)
			}
		case "icmp", "snmp", "plugins":
			if v.Kind != yaml.SequenceNode {
				return fmt.Errorf("line %d: %s: want a list of targets", v.Line, k.Value)
			}
			names := map[string]bool{}
			for j, t := range v.Content {
				if t.Kind != yaml.MappingNode {
					return fmt.Errorf("line %d: %s[%d]: want a mapping", t.Line, k.Value, j)
				}
				name := ""
				for x := 0; x+1 < len(t.Content); x += 2 {
					if t.Content[x].Value == "name" && t.Content[x+1].Kind == yaml.ScalarNode {
						name = t.Content[x+1].Value
					}
				}
				if name == "" {
					return fmt.Errorf("line %d: %s[%d]: no name (the agent merges targets by name)", t.Line, k.Value, j)
				}
				if names[name] {
					return fmt.Errorf("line %d: %s[%d]: name %q given twice", t.Line, k.Value, j, clipParam(name))
				}
				names[name] = true
			}
		default:
			return fmt.Errorf("line %d: %q: an override may set only %s", k.Line, clipParam(k.Value), strings.Join(overrideKeys, ", "))
		}
	}
	return nil
}
