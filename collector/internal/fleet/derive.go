package fleet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// CredentialLookup returns the credential profile (site, name); ok false
// when there is none.
type CredentialLookup func(site, name string) (p *Profile, ok bool, err error)

// DeriveInput is what an agent's config is derived from.
type DeriveInput struct {
	Inventory *inventory.Inventory // nil: no inventory (only the override)
	Agent     string
	Site      string // the agent's site (its token's first site)
	// Override is the per-agent override YAML (agents override), merged
	// over the derived config.
	Override string
	// Credential looks up SNMP credential profiles; nil: none.
	Credential CredentialLookup
	// WithSecrets: the request came over TLS, SNMP credentials may be
	// sent. Without it devices that need credentials are left out.
	WithSecrets bool
}

// Derived is an agent's config fragment.
type Derived struct {
	YAML []byte   // the agent.yml fragment (fleetproto.ConfigFile)
	Hash [32]byte // SHA-256 of YAML
	// Notes say what was left out and why (also a comment in YAML).
	Notes []string
}

// HashHex is the hash as FleetAgent.ConfigOffered holds it.
func (d *Derived) HashHex() string { return hex.EncodeToString(d.Hash[:]) }

// requiredPluginKeys are the config keys the bundled plugins cannot do
// without.
var requiredPluginKeys = map[string]string{"http": "url", "dns": "query", "tcp": "address"}

// Derive builds an agent's config fragment: its ICMP targets from the
// links it probes, its SNMP targets from its site's devices with an
// address (credentials from the site's profile, else the Pemda-wide one),
// its plugin targets from the services it checks, then the override
// merged over that. The output is deterministic (keys and targets
// sorted), so its hash changes only when the config does.
func Derive(in DeriveInput) (*Derived, error) {
	var notes []string
	doc := map[string]any{}
	if in.Site != "" {
		doc["agent"] = map[string]any{"site": in.Site}
	}
	if inv := in.Inventory; inv != nil {
		var icmp, snmp []any
		for i := range inv.Links {
			l := &inv.Links[i]
			if l.ICMP.Target == "" || !probesLink(l, in.Agent, in.Site) {
				continue
			}
			icmp = append(icmp, map[string]any{"name": l.ID, "target": l.ICMP.Target, "tags": map[string]any{"link": l.ID}})
		}
		for i := range inv.Devices {
			d := &inv.Devices[i]
			if d.Address == "" || d.Site != in.Site {
				continue
			}
			t, note, err := snmpTarget(d, in)
			if err != nil {
				return nil, err
			}
			if note != "" {
				notes = append(notes, note)
				continue
			}
			snmp = append(snmp, t)
		}
		plugins := map[string][]any{}
		for i := range inv.Services {
			sv := &inv.Services[i]
			p := sv.Probe
			if p.Measurement == "" || p.Target == "" || !(p.Agent == in.Agent || p.Agent == "" && sv.Site == in.Site) {
				continue
			}
			cfg := maps.Clone(p.Config)
			if cfg == nil {
				cfg = map[string]any{}
			}
			if p.Measurement == "http" && cfg["url"] == nil && sv.URL != "" {
				cfg["url"] = sv.URL
			}
			if k := requiredPluginKeys[p.Measurement]; k != "" && cfg[k] == nil {
				notes = append(notes, fmt.Sprintf("service %s left out: its %s check needs probe.config.%s in the inventory", sv.ID, p.Measurement, k))
				continue
			}
			t := map[string]any{"name": p.Target}
			if len(cfg) > 0 {
				t["config"] = cfg
			}
			plugins[p.Measurement] = append(plugins[p.Measurement], t)
		}
		if len(icmp) > 0 {
			doc["icmp"] = icmp
		}
		if len(snmp) > 0 {
			doc["snmp"] = snmp
		}
		if len(plugins) > 0 {
			var pl []any
			for name, ts := range plugins {
				pl = append(pl, map[string]any{"name": name, "targets": ts})
			}
			doc["plugins"] = pl
		}
	}
	if strings.TrimSpace(in.Override) != "" {
		ov, err := ParseOverride([]byte(in.Override))
		if err != nil {
			notes = append(notes, "override not applied: "+err.Error())
		} else {
			doc = mergeOverride(doc, ov)
		}
	}
	sortTargets(doc)
	body, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode the config of agent %s: %w", in.Agent, err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Derived by the collector for agent %s from the inventory (docs/fleet.md); local agent.yml keys win.\n", in.Agent)
	slices.Sort(notes)
	for _, n := range notes {
		fmt.Fprintf(&buf, "# %s\n", strings.ReplaceAll(n, "\n", " "))
	}
	buf.Write(body)
	d := &Derived{YAML: buf.Bytes(), Notes: notes}
	d.Hash = sha256.Sum256(d.YAML)
	return d, nil
}

// probesLink reports whether the agent probes the link: the link names
// it, or names no agent and is at the agent's site.
func probesLink(l *inventory.Link, agent, site string) bool {
	if l.ICMP.Agent != "" {
		return l.ICMP.Agent == agent
	}
	return site != "" && l.Site == site
}

// snmpTarget is a device's SNMP target, or a note why it is left out.
func snmpTarget(d *inventory.Device, in DeriveInput) (map[string]any, string, error) {
	name := d.SNMP.Profile
	if name == "" {
		name = inventory.DefaultSNMPProfile
	}
	if !in.WithSecrets {
		return nil, fmt.Sprintf("device %s left out: SNMP credentials are sent only over TLS (set tls.cert_file on the collector)", d.ID), nil
	}
	var (
		p   *Profile
		ok  bool
		err error
	)
	if in.Credential != nil {
		if p, ok, err = in.Credential(d.Site, name); err == nil && !ok {
			p, ok, err = in.Credential(PemdaWide, name)
		}
	}
	if errors.Is(err, ErrWrongKey) {
		return nil, fmt.Sprintf("device %s left out: its credential profile %q does not open with the collector's key file (%v)", d.ID, name, err), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("credential profile %s for device %s: %w", name, d.ID, err)
	}
	if !ok {
		return nil, fmt.Sprintf("device %s left out: no credential profile %q for site %s or * (pantau-collector credentials set)", d.ID, name, d.Site), nil
	}
	t := map[string]any{"name": d.ID, "target": d.Address, "version": p.Version}
	set := func(k, v string) {
		if v != "" {
			t[k] = v
		}
	}
	set("community", p.Community.Reveal())
	set("username", p.Username)
	set("security_level", p.SecurityLevel)
	set("auth_protocol", p.AuthProtocol)
	set("auth_passphrase", p.AuthPassphrase.Reveal())
	set("priv_protocol", p.PrivProtocol)
	set("priv_passphrase", p.PrivPassphrase.Reveal())
	set("context_name", p.ContextName)
	if len(d.SNMP.Interfaces) > 0 {
		ifs := make([]any, len(d.SNMP.Interfaces))
		for i, s := range d.SNMP.Interfaces {
			ifs[i] = s
		}
		t["interfaces"] = ifs
	}
	return t, "", nil
}

// overrideKeys are the top-level keys a remote config may hold.
var overrideKeys = []string{"agent", "defaults", "icmp", "snmp", "plugins"}

// MaxOverrideBytes bounds an override.
const MaxOverrideBytes = 256 << 10

// ErrBadOverride is an override that cannot be merged.
var ErrBadOverride = errors.New("invalid override")

// ParseOverride decodes and checks a per-agent override: a YAML mapping
// with only the keys agent (only site), defaults, icmp, snmp and plugins;
// every icmp, snmp and plugins entry (and every plugin target) has a
// unique name. Callers that store overrides validate them with it.
func ParseOverride(data []byte) (map[string]any, error) {
	if len(data) > MaxOverrideBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadOverride, MaxOverrideBytes)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOverride, err)
	}
	for k, v := range doc {
		switch k {
		case "agent":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: agent must be a mapping", ErrBadOverride)
			}
			for ak := range m {
				if ak != "site" {
					return nil, fmt.Errorf("%w: agent.%s: only agent.site may be set remotely", ErrBadOverride, ak)
				}
			}
		case "defaults":
			if _, ok := v.(map[string]any); !ok {
				return nil, fmt.Errorf("%w: defaults must be a mapping", ErrBadOverride)
			}
		case "icmp", "snmp":
			if _, err := namedList(k, v); err != nil {
				return nil, err
			}
		case "plugins":
			ps, err := namedList(k, v)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if ts, ok := p["targets"]; ok {
					if _, err := namedList(fmt.Sprintf("plugins[%v].targets", p["name"]), ts); err != nil {
						return nil, err
					}
				}
			}
		default:
			return nil, fmt.Errorf("%w: key %q: a remote config holds only %s", ErrBadOverride, k, strings.Join(overrideKeys, ", "))
		}
	}
	return doc, nil
}

// namedList checks a list of mappings with unique string names.
func namedList(path string, v any) ([]map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a list", ErrBadOverride, path)
	}
	seen := map[string]bool{}
	out := make([]map[string]any, 0, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s[%d] must be a mapping", ErrBadOverride, path, i)
		}
		name, ok := m["name"].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: %s[%d] needs a name (targets merge by name)", ErrBadOverride, path, i)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: %s: name %q appears twice", ErrBadOverride, path, name)
		}
		seen[name] = true
		out = append(out, m)
	}
	return out, nil
}

// mergeOverride merges ov over doc: mappings key by key (ov wins), the
// target lists by name (an ov entry replaces the one with its name, the
// others are appended); a plugin in both keeps both's targets by name.
func mergeOverride(doc, ov map[string]any) map[string]any {
	for k, v := range ov {
		switch k {
		case "icmp", "snmp":
			doc[k] = mergeByName(doc[k], v, nil)
		case "plugins":
			doc[k] = mergeByName(doc[k], v, func(base, over map[string]any) map[string]any {
				out := mergeMaps(base, over)
				out["targets"] = mergeByName(base["targets"], over["targets"], nil)
				return out
			})
		default:
			if bm, ok := doc[k].(map[string]any); ok {
				if om, ok := v.(map[string]any); ok {
					doc[k] = mergeMaps(bm, om)
					continue
				}
			}
			doc[k] = v
		}
	}
	return doc
}

func mergeMaps(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeMaps(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func mergeByName(base, over any, both func(base, over map[string]any) map[string]any) []any {
	bl, _ := base.([]any)
	ol, _ := over.([]any)
	idx := map[string]int{}
	out := slices.Clone(bl)
	for i, e := range out {
		if m, ok := e.(map[string]any); ok {
			if n, ok := m["name"].(string); ok {
				idx[n] = i
			}
		}
	}
	for _, e := range ol {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		n, _ := m["name"].(string)
		if i, ok := idx[n]; ok {
			if both != nil {
				bm, _ := out[i].(map[string]any)
				out[i] = both(bm, m)
			} else {
				out[i] = m
			}
			continue
		}
		idx[n] = len(out)
		out = append(out, m)
	}
	return out
}

// sortTargets sorts every target list by name.
func sortTargets(doc map[string]any) {
	byName := func(l []any) {
		slices.SortStableFunc(l, func(a, b any) int {
			am, _ := a.(map[string]any)
			bm, _ := b.(map[string]any)
			an, _ := am["name"].(string)
			bn, _ := bm["name"].(string)
			return strings.Compare(an, bn)
		})
	}
	for _, k := range []string{"icmp", "snmp", "plugins"} {
		if l, ok := doc[k].([]any); ok {
			byName(l)
		}
	}
	if l, ok := doc["plugins"].([]any); ok {
		for _, p := range l {
			pm, _ := p.(map[string]any)
			if ts, ok := pm["targets"].([]any); ok {
				byName(ts)
			}
		}
	}
}
