// Package mib loads MIB files with gosmi and resolves object names
// (IF-MIB::ifName, ifName, ifName.3) to numeric OIDs and back, with the
// types table indexes are decoded by.
//
// gosmi keeps its modules in process-wide state and can panic on
// malformed input, so Load serialises every use of it, parses each file
// first with gosmi's parser (bounded in size, panics recovered and named
// by file), loads the files whose imports are all present, copies what
// it needs into an immutable Set, and resets gosmi. A Set is safe for
// concurrent use and owns no gosmi state.
package mib

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sleepinggenius2/gosmi"
	"github.com/sleepinggenius2/gosmi/parser"
	"github.com/sleepinggenius2/gosmi/types"
)

// DefaultDirs are the directories agent.mib_dirs defaults to. Debian's
// libsnmp-base installs net-snmp's own MIBs in /usr/share/snmp/mibs;
// snmp-mibs-downloader (non-free) adds the IETF and IANA MIBs under
// /usr/share/snmp/mibs/{ietf,iana}; /etc/pantau/mibs is for the user's
// vendor MIBs. Default directories that do not exist are skipped.
var DefaultDirs = []string{
	"/usr/share/snmp/mibs",
	"/usr/share/snmp/mibs/iana",
	"/usr/share/snmp/mibs/ietf",
	"/etc/pantau/mibs",
}

// Limits of Load.
const (
	MaxFileBytes = 4 << 20 // one MIB file
	MaxFiles     = 5000    // files across all directories
)

// Kind is what an object is.
type Kind int

// Kinds of object.
const (
	KindNode   Kind = iota // an OBJECT IDENTIFIER or identity
	KindScalar             // a scalar OBJECT-TYPE (read with .0)
	KindTable              // a SEQUENCE OF table
	KindRow                // a table's entry
	KindColumn             // a column of a table
)

func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "scalar"
	case KindTable:
		return "table"
	case KindRow:
		return "row"
	case KindColumn:
		return "column"
	}
	return "node"
}

// Syntax is the base type of an object's values, as table indexes are
// decoded by.
type Syntax int

// Syntaxes.
const (
	SyntaxUnknown  Syntax = iota
	SyntaxInteger         // INTEGER, Integer32, enumerations: one sub-id
	SyntaxUnsigned        // Unsigned32, Gauge32, Counter32, TimeTicks: one sub-id
	SyntaxCounter64
	SyntaxOctetString // length-prefixed unless IMPLIED or fixed-size
	SyntaxIPAddress   // 4 sub-ids
	SyntaxOID         // length-prefixed unless IMPLIED
	SyntaxBits
)

// Object is one named OID of a loaded MIB.
type Object struct {
	Module string
	Name   string
	OID    []uint32
	Kind   Kind
	Syntax Syntax
	// TypeName is the textual convention or base type name
	// (DisplayString, MacAddress, Integer32).
	TypeName string
	Hint     string // DISPLAY-HINT, such as "1x:"
	Units    string
	// FixedSize is the size of an OCTET STRING that has one size only
	// (MacAddress: 6), else 0.
	FixedSize int
	Enum      map[int64]string
	// For rows, tables and columns: the row's index objects (qualified
	// names, in order) and whether the last is IMPLIED.
	Index   []string
	Implied bool
	// Table is the qualified name of a column's table.
	Table string
}

// Qualified is MODULE::name.
func (o *Object) Qualified() string { return o.Module + "::" + o.Name }

// OIDString is the numeric OID without a leading dot.
func (o *Object) OIDString() string { return FormatOID(o.OID) }

// Set is the objects of the loaded MIBs.
type Set struct {
	byQName map[string]*Object
	byName  map[string][]*Object
	byOID   map[string]*Object
	// Problems are the files that did not load, each error naming its
	// file; the other files are usable.
	Problems []error
	Modules  []string // loaded, sorted
}

// ErrUnknown is returned for a name no loaded MIB defines.
var ErrUnknown = errors.New("unknown MIB object")

// gosmiMu serialises gosmi, whose state is process-wide.
var gosmiMu sync.Mutex

type mibFile struct {
	path    string
	module  string
	imports []string
}

// Load reads every MIB file in dirs. A directory that does not exist is
// an error unless skipMissing; a file that does not parse, is too big or
// imports a module no file defines is reported in Set.Problems and
// skipped. logger may be nil.
func Load(dirs []string, skipMissing bool, logger *slog.Logger) (*Set, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var files []mibFile
	var problems []error
	seen := map[string]string{} // module -> file
	var usedDirs []string
	nfiles := 0
	for _, dir := range dirs {
		if strings.ContainsRune(dir, os.PathListSeparator) {
			return nil, fmt.Errorf("MIB directory %q: gosmi cannot use a path with %q in it", dir, os.PathListSeparator)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if skipMissing && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read MIB directory %s: %w", dir, err)
		}
		usedDirs = append(usedDirs, dir)
		for _, e := range entries {
			if e.IsDir() || !mibExt(e.Name()) {
				continue
			}
			nfiles++
			if nfiles > MaxFiles {
				return nil, fmt.Errorf("MIB directories %s: more than %d files", strings.Join(dirs, ", "), MaxFiles)
			}
			path := filepath.Join(dir, e.Name())
			f, err := parseFile(path)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			if prev, dup := seen[f.module]; dup {
				logger.Debug("duplicate MIB module; the first is used", "module", f.module, "file", path, "first", prev)
				continue
			}
			seen[f.module] = path
			files = append(files, f)
		}
	}
	// Drop, until nothing changes, the files whose imports are missing:
	// gosmi would print the failure to stdout and load nothing.
	ok := map[string]bool{}
	for _, f := range files {
		ok[f.module] = true
	}
	for changed := true; changed; {
		changed = false
		for _, f := range files {
			if !ok[f.module] {
				continue
			}
			for _, imp := range f.imports {
				if !ok[imp] && !builtinModule(imp) {
					ok[f.module] = false
					changed = true
					problems = append(problems, fmt.Errorf("MIB file %s: module %s imports %s, which no file in the MIB directories defines", f.path, f.module, imp))
					break
				}
			}
		}
	}

	s, err := loadAll(usedDirs, files, ok)
	if err != nil {
		return nil, err
	}
	s.Problems = append(problems, s.Problems...)
	return s, nil
}

// loadAll loads the files marked ok into a fresh gosmi and copies the
// result out; gosmi is reset afterwards whatever happens.
func loadAll(dirs []string, files []mibFile, ok map[string]bool) (s *Set, err error) {
	gosmiMu.Lock()
	defer gosmiMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("load MIBs from %s: gosmi panicked: %v", strings.Join(dirs, ", "), r)
		}
	}()
	gosmi.Init()
	defer gosmi.Exit()
	for _, d := range dirs {
		gosmi.AppendPath(d)
	}
	var problems []error
	for _, f := range files {
		if !ok[f.module] {
			continue
		}
		if err := loadModule(f); err != nil {
			problems = append(problems, err)
		}
	}
	s, err = snapshot()
	if err != nil {
		return nil, err
	}
	s.Problems = problems
	return s, nil
}

func builtinModule(name string) bool {
	// gosmi maps the SMIv1 modules to SNMPv2-SMI itself.
	return name == "RFC1155-SMI" || name == "RFC1065-SMI" || name == "RFC-1212" || name == "RFC-1215" || name == "RFC1213-MIB"
}

func mibExt(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	_, ext, _ := strings.Cut(name, ".")
	switch ext {
	case "", "mib", "my", "mi2", "txt":
		return true
	}
	return false
}

// parseFile parses one file with gosmi's parser for its module name and
// imports; it bounds the size and turns a panic into an error naming the
// file.
func parseFile(path string) (f mibFile, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return f, fmt.Errorf("MIB file %s: %w", path, err)
	}
	if st.Size() > MaxFileBytes {
		return f, fmt.Errorf("MIB file %s: %d bytes, more than the limit of %d", path, st.Size(), MaxFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("MIB file %s: %w", path, err)
	}
	m, err := ParseModule(data)
	if err != nil {
		return f, fmt.Errorf("MIB file %s: %w", path, err)
	}
	f = mibFile{path: path, module: string(m.Name)}
	for _, imp := range m.Body.Imports {
		if !slices.Contains(f.imports, string(imp.Module)) {
			f.imports = append(f.imports, string(imp.Module))
		}
	}
	// gosmi finds an imported module by its file name, so a module must be
	// in a file named after it (IF-MIB, IF-MIB.txt, IF-MIB.my, ...).
	if base, _, _ := strings.Cut(filepath.Base(path), "."); base != f.module {
		return f, fmt.Errorf("MIB file %s: defines module %s; rename the file to %s.mib (gosmi finds modules by file name)", path, f.module, f.module)
	}
	return f, nil
}

// ParseModule parses one MIB module with gosmi's parser, turning a panic
// into an error.
func ParseModule(data []byte) (m *parser.Module, err error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%d bytes, more than the limit of %d", len(data), MaxFileBytes)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("parse: gosmi panicked: %v", r)
		}
	}()
	m, err = parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if m == nil || m.Name == "" {
		return nil, errors.New("parse: no module definition")
	}
	return m, nil
}

func loadModule(f mibFile) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("MIB file %s: gosmi panicked while loading %s: %v", f.path, f.module, r)
		}
	}()
	if _, err := gosmi.LoadModule(f.module); err != nil {
		return fmt.Errorf("MIB file %s: load module %s: %w", f.path, f.module, err)
	}
	return nil
}

// snapshot copies the loaded modules' nodes out of gosmi.
func snapshot() (s *Set, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("read loaded MIBs: gosmi panicked: %v", r)
		}
	}()
	s = &Set{byQName: map[string]*Object{}, byName: map[string][]*Object{}, byOID: map[string]*Object{}}
	for _, m := range gosmi.GetLoadedModules() {
		if strings.HasPrefix(m.Name, "<") {
			continue // gosmi's <well-known> root module (iso, ccitt)
		}
		s.Modules = append(s.Modules, m.Name)
		for _, n := range m.GetNodes() {
			o := &Object{Module: m.Name, Name: n.Name, OID: make([]uint32, len(n.Oid))}
			for i, id := range n.Oid {
				o.OID[i] = uint32(id)
			}
			switch n.Kind {
			case types.NodeScalar:
				o.Kind = KindScalar
			case types.NodeTable:
				o.Kind = KindTable
			case types.NodeRow:
				o.Kind = KindRow
			case types.NodeColumn:
				o.Kind = KindColumn
			}
			if n.Type != nil {
				setType(o, n.Type.BaseType, n.Type.Name, n.Type.Format, n.Type.Units, n.Type.Ranges, n.Type.Enum)
				if o.Units == "" {
					o.Units = n.GetRaw().Units
				}
				if o.Hint == "" {
					o.Hint = n.GetRaw().Format
				}
			}
			switch o.Kind {
			case KindTable, KindRow, KindColumn:
				tbl := n
				if o.Kind == KindColumn {
					o.Table = "" // set below from the OID
				}
				if o.Kind != KindColumn {
					for _, ix := range tbl.GetIndex() {
						o.Index = append(o.Index, ix.GetModule().Name+"::"+ix.Name)
					}
					o.Implied = tbl.GetImplied()
				}
			}
			s.add(o)
		}
	}
	sort.Strings(s.Modules)
	// Columns take their table's index; the table is two arcs up.
	for _, o := range s.byQName {
		if o.Kind != KindColumn || len(o.OID) < 3 {
			continue
		}
		if t := s.byOID[FormatOID(o.OID[:len(o.OID)-2])]; t != nil && t.Kind == KindTable {
			o.Table = t.Qualified()
			o.Index, o.Implied = t.Index, t.Implied
		}
	}
	return s, nil
}

func (s *Set) add(o *Object) {
	q := o.Qualified()
	if _, dup := s.byQName[q]; dup {
		return
	}
	s.byQName[q] = o
	s.byName[o.Name] = append(s.byName[o.Name], o)
	if k := FormatOID(o.OID); s.byOID[k] == nil {
		s.byOID[k] = o
	}
}
