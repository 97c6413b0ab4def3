package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/internal/fleetproto"
	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// RemoteName labels the remote config in error messages.
const RemoteName = "remote config"

// MaxRemoteBytes bounds a remote config (a district's inventory is a few
// KiB; a Kabupaten's core a few hundred).
const MaxRemoteBytes = 4 << 20

// maxNodes bounds a document after its aliases are expanded.
const maxNodes = 200_000

// remoteFragment is what a remote config may hold: the probes and their
// defaults, and the agent's site. Where the agent keeps its queue, which
// collectors it trusts and whether it updates itself stay local.
type remoteFragment struct {
	Agent struct {
		Site string `yaml:"site"`
	} `yaml:"agent"`
	Defaults DefaultsConfig `yaml:"defaults"`
	ICMP     []ICMPTarget   `yaml:"icmp"`
	SNMP     []SNMPTarget   `yaml:"snmp"`
	Plugins  []PluginConfig `yaml:"plugins"`
}

// CheckRemote decodes a remote config strictly: a key it may not hold is
// an error located in the fragment ("remote config:3:3: agent.state_dir:
// unknown field ...").
func CheckRemote(data []byte) error {
	if len(data) > MaxRemoteBytes {
		return fmt.Errorf("%s: %d bytes, more than the %d an agent accepts", RemoteName, len(data), MaxRemoteBytes)
	}
	var f remoteFragment
	doc, err := yamlconf.Decode(RemoteName, data, &f, "; a remote config holds only agent.site, defaults, icmp, snmp and plugins")
	if err != nil {
		return err
	}
	// The collector must not make the agent read its files or its
	// environment and send them to a device of the collector's choosing.
	p := yamlconf.NewProblems(doc)
	for i, t := range f.SNMP {
		at := fmt.Sprintf("snmp[%d]", i)
		for _, k := range []struct{ key, v string }{{"community_file", t.CommunityFile}, {"auth_passphrase_file", t.AuthPassphraseFile}, {"priv_passphrase_file", t.PrivPassphraseFile}} {
			if k.v != "" {
				p.Add(at+"."+k.key, "a remote config gives credentials inline (they come from the collector's credential profiles), not as files on the agent")
			}
		}
		for _, k := range []struct {
			key string
			v   Secret
		}{{"community", t.Community}, {"auth_passphrase", t.AuthPassphrase}, {"priv_passphrase", t.PrivPassphrase}} {
			if envRef.MatchString(string(k.v)) {
				p.Add(at+"."+k.key, "a remote config may not refer to the agent's environment variables")
			}
		}
	}
	return p.Err()
}

// Merge merges the YAML documents of layers into one; an earlier layer
// wins over a later one (local agent.yml, then the remote config, then
// what enrolment decided). Mappings merge key by key. The lists of named
// entries merge by name: in icmp, snmp and plugins[].targets an entry of
// an earlier layer replaces the later layer's entry of the same name (an
// ICMP target's name defaults to its address, an SNMP device's to its
// host), in plugins same-named plugins merge key by key (so agent.yml
// can give path and sha256, the remote config the targets), in collectors
// an earlier entry replaces; entries without a match are appended. Every
// other value, lists included, is the earliest layer's. Empty layers are
// skipped. Aliases are expanded.
func Merge(layers ...[]byte) ([]byte, error) {
	var out *yaml.Node
	for i := len(layers) - 1; i >= 0; i-- {
		n, err := parseLayer(layers[i])
		if err != nil {
			return nil, err
		}
		if n == nil {
			continue
		}
		if out == nil {
			out = n
			continue
		}
		out = mergeNode(n, out, "")
	}
	if out == nil {
		return nil, nil
	}
	return yaml.Marshal(out)
}

func parseLayer(data []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("YAML syntax: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	body := doc.Content[0]
	if body.Kind == yaml.ScalarNode && body.Tag == "!!null" {
		return nil, nil
	}
	if body.Kind != yaml.MappingNode {
		return nil, errors.New("the config must be a mapping of keys")
	}
	budget := maxNodes
	n, err := expand(body, &budget, 0)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// expand copies n with every alias replaced by a copy of its anchor's
// node, within a node budget (a "billion laughs" document runs out).
func expand(n *yaml.Node, budget *int, depth int) (*yaml.Node, error) {
	if *budget--; *budget < 0 || depth > 100 {
		return nil, errors.New("the document is too large or too deeply nested once its aliases are expanded")
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, errors.New("an alias without its anchor")
		}
		return expand(n.Alias, budget, depth+1)
	}
	c := *n
	c.Anchor, c.Alias = "", nil
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		e, err := expand(k, budget, depth+1)
		if err != nil {
			return nil, err
		}
		c.Content[i] = e
	}
	if c.Kind == yaml.MappingNode {
		if hasMergeKey(&c) {
			return nil, errors.New("YAML merge keys (<<) are not supported in a merged config")
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(c.Content); i += 2 {
			if k := c.Content[i]; k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a plain value", k.Line)
			} else if seen[k.Value] {
				return nil, fmt.Errorf("line %d: key %q appears twice in the mapping", k.Line, k.Value)
			}
			seen[c.Content[i].Value] = true
		}
	}
	return &c, nil
}

func hasMergeKey(m *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Tag == "!!merge" || (m.Content[i].Value == "<<" && m.Content[i].Style == 0) {
			return true
		}
	}
	return false
}

// mergeNode merges low under up (up wins) at the dotted path.
func mergeNode(up, low *yaml.Node, path string) *yaml.Node {
	switch {
	case up.Kind == yaml.MappingNode && low.Kind == yaml.MappingNode:
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: up.Tag, Style: up.Style}
		seen := map[string]bool{}
		for i := 0; i+1 < len(low.Content); i += 2 {
			k, v := low.Content[i], low.Content[i+1]
			if seen[k.Value] {
				continue // a duplicate key: the YAML decoder refuses the result
			}
			seen[k.Value] = true
			if uv := mapValue(up, k.Value); uv != nil {
				v = mergeNode(uv, v, joinPath(path, k.Value))
			}
			out.Content = append(out.Content, k, v)
		}
		for i := 0; i+1 < len(up.Content); i += 2 {
			if !seen[up.Content[i].Value] {
				seen[up.Content[i].Value] = true
				out.Content = append(out.Content, up.Content[i], up.Content[i+1])
			}
		}
		return out
	case up.Kind == yaml.SequenceNode && low.Kind == yaml.SequenceNode && namedList(path) != "":
		return mergeList(up, low, path)
	}
	return up
}

// namedList says how a list at path merges: "replace" (targets, collectors)
// or "merge" (plugins); "" for lists that are values (interfaces).
func namedList(path string) string {
	switch {
	case path == "icmp", path == "snmp", path == "collectors":
		return "replace"
	case path == "plugins":
		return "merge"
	case strings.HasPrefix(path, "plugins[") && strings.HasSuffix(path, ".targets"):
		return "replace"
	}
	return ""
}

func mergeList(up, low *yaml.Node, path string) *yaml.Node {
	out := &yaml.Node{Kind: yaml.SequenceNode, Tag: up.Tag, Style: up.Style}
	used := make([]bool, len(up.Content))
	for _, item := range low.Content {
		key := itemKey(path, item)
		for j, u := range up.Content {
			if !used[j] && key != "" && itemKey(path, u) == key {
				used[j] = true
				if namedList(path) == "merge" {
					item = mergeNode(u, item, fmt.Sprintf("%s[%d]", path, len(out.Content)))
				} else {
					item = u
				}
				break
			}
		}
		out.Content = append(out.Content, item)
	}
	for j, u := range up.Content {
		if !used[j] {
			out.Content = append(out.Content, u)
		}
	}
	return out
}

// itemKey is the name a list entry is matched by: name, else (as the
// config defaults it) the ICMP target's address or the SNMP target's host.
func itemKey(path string, n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	if v := mapValue(n, "name"); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
		return v.Value
	}
	t := mapValue(n, "target")
	if t == nil || t.Kind != yaml.ScalarNode {
		return ""
	}
	switch path {
	case "icmp":
		return t.Value
	case "snmp":
		if h, _, err := net.SplitHostPort(t.Value); err == nil {
			return h
		}
		return strings.Trim(t.Value, "[]")
	}
	return ""
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Redact returns the YAML document with the value of every secret key
// (tokens, communities, passphrases, passwords, keys, and the same inside
// plugin configs) replaced by fleetproto.SecretPlaceholder. Paths to
// secret files (*_file) are kept.
func Redact(data []byte) ([]byte, error) {
	n, err := parseLayer(data)
	if err != nil || n == nil {
		return nil, err
	}
	redact(n)
	return yaml.Marshal(n)
}

func redact(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if secretKey(k.Value) && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fleetproto.SecretPlaceholder}
				continue
			}
			redact(v)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			redact(c)
		}
	}
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	if strings.HasSuffix(k, "_file") || strings.HasSuffix(k, "_path") {
		return false
	}
	for _, s := range []string{"token", "community", "passphrase", "password", "passwd", "secret", "enroll_code", "credential", "authorization"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return k == "key" || strings.HasSuffix(k, "_key") || strings.HasSuffix(k, "apikey")
}

// ParseLayers merges local (agent.yml, read from name), remote (the last
// remote config) and base (what enrolment decided: agent id and site, the
// fleet's collector entry) and parses the result with Parse's defaults and
// validation. Without remote and base it is Parse(name, local). A problem
// of the merged document names its key path (no line: the document exists
// only in memory); when agent.yml alone has problems, they are reported
// with their lines instead.
func ParseLayers(name string, local, remote, base []byte) (*Config, error) {
	if len(bytes.TrimSpace(remote)) == 0 && len(bytes.TrimSpace(base)) == 0 {
		return Parse(name, local)
	}
	if err := CheckRemote(remote); err != nil {
		return nil, err
	}
	merged, err := Merge(local, remote, base)
	if err != nil {
		label := name
		if label == "" {
			label = "agent.yml"
		}
		return nil, fmt.Errorf("merge %s and the %s: %w", label, RemoteName, err)
	}
	c, err := Parse(name, merged)
	if err != nil {
		if _, lerr := Parse(name, local); lerr != nil {
			return nil, lerr
		}
		return nil, relabel(err, name)
	}
	return c, nil
}

// relabel drops the merged document's positions from its problems.
func relabel(err error, name string) error {
	label := RemoteName + " merged with " + name
	if name == "" {
		label = RemoteName + " merged with the defaults"
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var fe *yamlconf.FieldError
		if errors.As(e, &fe) {
			c := *fe
			c.File, c.Line, c.Col = label, 0, 0
			e = &c
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// BundledPluginDirs are where the agent looks for the plugins it ships
// with (each directory holding pantau-plugin-<name> files and their
// SHA256SUMS): "plugins" next to the agent's executable (a tarball, make
// build), then the package's directory.
func BundledPluginDirs() []string {
	dirs := []string{}
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "plugins"))
	}
	return append(dirs, "/usr/lib/pantau/plugins")
}

// PluginLayer resolves the plugins a remote config names to the bundled
// ones: for each remote plugin that agent.yml does not configure, a layer
// entry with the bundled program's path and its SHA-256 from SHA256SUMS.
// A remote config never chooses a program to run: a remote plugin with a
// path or sha256 of its own, or naming a plugin that is not bundled, is
// an error (a plugin elsewhere goes in agent.yml with its path and
// sha256).
func PluginLayer(local, remote []byte, dirs []string) ([]byte, error) {
	type named struct {
		Plugins []struct {
			Name   string `yaml:"name"`
			Path   string `yaml:"path"`
			SHA256 string `yaml:"sha256"`
		} `yaml:"plugins"`
	}
	var r, l named
	if err := yaml.Unmarshal(remote, &r); err != nil || len(r.Plugins) == 0 {
		return nil, nil // CheckRemote reports a broken fragment
	}
	yaml.Unmarshal(local, &l)
	have := map[string]bool{}
	for _, p := range l.Plugins {
		have[p.Name] = true
	}
	var out []map[string]string
	for i, p := range r.Plugins {
		switch {
		case have[p.Name]:
			continue // agent.yml's path and sha256 win
		case p.Path != "" || p.SHA256 != "":
			return nil, fmt.Errorf("%s: plugins[%d] (%s): a remote config may not choose the program a plugin runs; "+
				"name a bundled plugin, or configure this one with its path and sha256 in agent.yml", RemoteName, i, p.Name)
		case !pluginName.MatchString(p.Name):
			return nil, fmt.Errorf("%s: plugins[%d].name: must be letters, digits, - or _ (got %q)", RemoteName, i, p.Name)
		}
		path, sum, err := bundled(p.Name, dirs)
		if err != nil {
			return nil, fmt.Errorf("%s: plugins[%d] (%s): %w", RemoteName, i, p.Name, err)
		}
		have[p.Name] = true
		out = append(out, map[string]string{"name": p.Name, "path": path, "sha256": sum})
	}
	if len(out) == 0 {
		return nil, nil
	}
	return yaml.Marshal(map[string]any{"plugins": out})
}

// bundled finds pantau-plugin-<name> and its sum in the first of dirs
// whose SHA256SUMS lists it.
func bundled(name string, dirs []string) (path, sum string, err error) {
	file := "pantau-plugin-" + name
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "SHA256SUMS"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && strings.TrimPrefix(f[1], "*") == file && sha256Hex.MatchString(f[0]) {
				return filepath.Join(d, file), f[0], nil
			}
		}
	}
	return "", "", fmt.Errorf("not a plugin bundled with this agent (no %s in the SHA256SUMS of %s)", file, strings.Join(dirs, " or "))
}
