// Package yamlconf decodes the YAML config files of both binaries strictly
// (an unknown key or a wrong type is an error, never ignored) and locates
// every problem as file:line:col: path: message, so that check-config
// points the operator at the exact spot.
package yamlconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "30s", "7d", "400d" or "1h30m".
type Duration time.Duration

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return model.Duration(d).String() }

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar only, so strict decoding stays in force.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as \"30s\" or \"7d\"", n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

// ParseDuration accepts Prometheus durations (units ms, s, m, h, d, w, y)
// and Go durations ("1h30m", "1.5h").
func ParseDuration(s string) (time.Duration, error) {
	if v, err := model.ParseDuration(s); err == nil {
		return time.Duration(v), nil
	}
	if v, err := time.ParseDuration(s); err == nil {
		return v, nil
	}
	return 0, fmt.Errorf("invalid duration %q: use a number with a unit, such as 30s, 10m, 7d or 400d", s)
}

// FieldError is one problem, located in the file when possible.
type FieldError struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Doc is a decoded file, kept for locating values by their dotted path.
type Doc struct {
	File string // the path the data came from; "" for embedded defaults
	Hint string // appended to "unknown field", e.g. which command lists every key
	root *yaml.Node
}

// Decode decodes data strictly into v, which holds the defaults on entry.
// An empty document leaves v alone. Syntax and type errors are
// FieldErrors, joined.
func Decode(name string, data []byte, v any, hint string) (*Doc, error) {
	d := &Doc{File: name, Hint: hint}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: name, Line: extra.Line, Col: extra.Column, Msg: "more than one YAML document; a config file holds exactly one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(name, err)
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return d, nil // empty file or comments only: the defaults
	}
	d.root = &root
	if body := docBody(&root); body.Kind != yaml.MappingNode {
		return nil, &FieldError{File: name, Line: body.Line, Col: body.Column, Msg: "the config must be a mapping of keys"}
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs := make([]error, 0, len(te.Errors))
			for _, msg := range te.Errors {
				errs = append(errs, d.typeError(msg))
			}
			return nil, errors.Join(errs...)
		}
		return nil, syntaxError(name, err)
	}
	return d, nil
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(name string, err error) error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: name, Line: line, Col: 1, Msg: "YAML syntax: " + m[2]}
	}
	return &FieldError{File: name, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

var unknownRE = regexp.MustCompile(`^field (\S+) not found in type`)

// typeError turns one of yaml's "line N: ..." messages into a FieldError.
func (c *Doc) typeError(msg string) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &FieldError{File: c.File, Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	if u := unknownRE.FindStringSubmatch(text); u != nil {
		path, key, _ := findKey(docBody(c.root), "", line, u[1])
		fe := &FieldError{File: c.File, Line: line, Col: 1, Path: path, Msg: "unknown field (check the spelling" + c.Hint + ")"}
		if key != nil {
			fe.Col = key.Column
		}
		return fe
	}
	path, _, val := findKey(docBody(c.root), "", line, "")
	fe := &FieldError{File: c.File, Line: line, Col: 1, Path: path, Msg: strings.TrimPrefix(text, "cannot unmarshal ")}
	if strings.HasPrefix(text, "cannot unmarshal ") {
		fe.Msg = "wrong type: cannot decode " + strings.TrimPrefix(text, "cannot unmarshal ")
	}
	if val != nil {
		fe.Col = val.Column
	}
	return fe
}

// findKey finds the mapping entry on line (with key name, if given) and
// returns its dotted path, key node and value node.
func findKey(n *yaml.Node, prefix string, line int, name string) (string, *yaml.Node, *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(prefix, k.Value)
			if k.Line == line && (name == "" || k.Value == name) {
				return p, k, v
			}
			if v.Line == line && name == "" && v.Kind == yaml.ScalarNode {
				return p, k, v
			}
			if path, kk, vv := findKey(v, p, line, name); kk != nil || vv != nil {
				return path, kk, vv
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if item.Line == line && name == "" && item.Kind == yaml.ScalarNode {
				return p, nil, item
			}
			if path, kk, vv := findKey(item, p, line, name); kk != nil || vv != nil {
				return path, kk, vv
			}
		}
	}
	return "", nil, nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func docBody(root *yaml.Node) *yaml.Node {
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return root.Content[0]
	}
	return root
}

// Locate returns the position of the value at a dotted path such as
// "snmp[0].target", or of its nearest ancestor present in the file;
// 0, 0 when the value is not in the file (a default).
func (c *Doc) Locate(path string) (line, col int) {
	n := docBody(c.root)
	if n == nil {
		return 0, 0
	}
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		next := lookup(n, name)
		if next == nil {
			return 0, 0 // not in the file: the value is a default
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				break
			}
			n = n.Content[idx]
		}
	}
	return n.Line, n.Column
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Has reports whether the dotted path is present in the file.
func (c *Doc) Has(path string) bool {
	l, _ := c.Locate(path)
	return l > 0
}

// Problems collects validation errors, each located in the file.
type Problems struct {
	doc  *Doc
	errs []error
}

// NewProblems starts a collection for doc (which may be nil: defaults).
func NewProblems(doc *Doc) *Problems {
	if doc == nil {
		doc = &Doc{}
	}
	return &Problems{doc: doc}
}

// Add records a problem with the value at path.
func (p *Problems) Add(path, format string, args ...any) {
	fe := &FieldError{File: p.doc.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	fe.Line, fe.Col = p.doc.Locate(path)
	p.errs = append(p.errs, fe)
}

// AddNear records a problem with a value that may be absent from the file
// (a required key, or a default that conflicts with another value): it is
// located at path if present, else at its nearest ancestor in the file.
func (p *Problems) AddNear(path, format string, args ...any) {
	fe := &FieldError{File: p.doc.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	for at := path; at != "" && fe.Line == 0; at = parent(at) {
		fe.Line, fe.Col = p.doc.Locate(at)
	}
	p.errs = append(p.errs, fe)
}

// parent strips the last ".key" or "[i]" of a dotted path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// OneOf records a problem unless got is one of allowed.
func (p *Problems) OneOf(path, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	p.Add(path, "must be one of %s (got %q)", QuoteList(allowed), got)
}

// Err returns every problem in file order, joined; nil if none.
func (p *Problems) Err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i].(*FieldError), p.errs[j].(*FieldError)
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return errors.Join(p.errs...)
}

// Resolve makes p relative to the config file's directory.
func (c *Doc) Resolve(p string) string {
	if filepath.IsAbs(p) || c == nil || c.File == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// Readable checks that the file at p can be opened for reading.
func Readable(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", p, errors.Unwrap(err))
	}
	f.Close()
	return nil
}

// QuoteList quotes and joins s for messages.
func QuoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}
