package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// How an uploaded CSV combines with the inventory in force
// (docs/spbe-report.md, "CSV import in the web UI"):
//
//   - The CSV's sites, links and OPD names are added, or replace the
//     entry with the same id. Everything else of the inventory (devices,
//     services, defaults, schedules, the sites and links the CSV does not
//     name) stays as it is; an import never removes anything.
//   - A replaced entry takes every value the CSV has a column for, when
//     that column is in the file's header (an empty cell then means "not
//     set", as in a new inventory). A key the CSV format has no column for
//     (service_hours, a link's own sla_target, a contract's basis, an
//     OPD's approval) or whose column the file leaves out keeps its
//     current value. A group (icmp, snmp, thresholds, contract) that the
//     row leaves empty is removed when the file has any of its columns.
//   - A site whose timezone cell is empty on every row gets no timezone
//     key: the inventory's defaults.timezone (else WIB) applies.
//
// The merge works on the YAML the API serves (GET /api/v1/inventory),
// so that the values the CSV leaves out inherit the inventory's own
// defaults, and the result goes back through PUT /api/v1/inventory.

// csvColumnPaths maps the CSV columns to the keys they set below sites[i],
// links[i] and opds[i].
var csvColumnPaths = map[string]map[string]string{
	"sites": {
		"site_id": "id", "site_name": "name", "kind": "kind", "opd": "opd", "district": "district",
		"parent": "parent", "lat": "lat", "lon": "lon", "timezone": "timezone", "sla_target": "sla_target",
	},
	"links": {
		"link_id": "id", "site_id": "site", "link_name": "name", "type": "type", "isp": "isp", "circuit": "circuit",
		"bandwidth": "bandwidth", "icmp_target": "icmp.target", "icmp_agent": "icmp.agent",
		"snmp_device": "snmp.device", "snmp_interface": "snmp.interface",
		"loss_threshold": "thresholds.loss_ratio", "rtt_threshold": "thresholds.rtt", "signal_threshold": "thresholds.signal_dbm",
		"contract_target": "contract.target", "min_outage": "contract.min_outage", "exclude": "contract.exclude",
		"monthly_fee": "contract.monthly_fee", "restitution": "contract.restitution",
		"contract_start": "contract.start", "contract_end": "contract.end",
	},
	"opds": {"opd": "id", "opd_name": "name"},
}

// importSections are the parts of the inventory a CSV adds to, in the
// order the preview shows them.
var importSections = []string{"sites", "links", "opds"}

// importPlan is what an uploaded CSV would do to the inventory in force.
type importPlan struct {
	Name string
	// Problems are ImportCSV's ("name.csv:3:5: bandwidth: ..."), or the
	// merged inventory's; the plan cannot be applied when there are any.
	Problems []string
	// NProblems counts them all (Problems lists at most maxProblems).
	NProblems int
	Merged    []byte // the inventory to PUT
	Base      string // the SHA-256 of the inventory the plan was made on
	Parts     []planPart
	Changes   int // entries added or changed
}

// planPart is one section's changes.
type planPart struct {
	Section   string
	Added     []string       // at most maxPlanIDs
	Changed   []changedEntry // at most maxPlanIDs
	Unchanged int
	// NAdded and NChanged count them all; AddedMore and ChangedMore
	// those not listed.
	NAdded, NChanged, AddedMore, ChangedMore int
}

// maxPlanIDs bounds the ids a preview lists per section and kind of
// change, so that the page of a 5,000-link import stays small.
const maxPlanIDs = 200

// capped sets the counts and cuts the lists.
func (p *planPart) capped() {
	p.NAdded, p.NChanged = len(p.Added), len(p.Changed)
	if len(p.Added) > maxPlanIDs {
		p.AddedMore, p.Added = len(p.Added)-maxPlanIDs, p.Added[:maxPlanIDs]
	}
	if len(p.Changed) > maxPlanIDs {
		p.ChangedMore, p.Changed = len(p.Changed)-maxPlanIDs, p.Changed[:maxPlanIDs]
	}
}

type changedEntry struct {
	ID   string
	Keys []string // the keys whose values change, dotted (contract.target)
}

// maxProblems bounds the problems a preview lists.
const maxProblems = 500

// planImport checks the CSV data (named name, as the problems name it)
// and merges it into current, the YAML of the inventory in force. A
// returned error is an internal one; the CSV's own problems are in the
// plan.
func planImport(current []byte, name string, data []byte) (*importPlan, error) {
	sum := sha256.Sum256(current)
	plan := &importPlan{Name: name, Base: hex.EncodeToString(sum[:])}
	inv, err := inventory.ImportCSV(name, bytes.NewReader(data))
	if err != nil {
		plan.Problems, plan.NProblems = problemLines(err)
		return plan, nil
	}
	var out bytes.Buffer
	if err := inv.WriteYAML(&out, name); err != nil {
		return nil, err
	}
	var csvDoc, curDoc yaml.Node
	if err := yaml.Unmarshal(out.Bytes(), &csvDoc); err != nil {
		return nil, fmt.Errorf("read the imported inventory back: %w", err)
	}
	if err := yaml.Unmarshal(current, &curDoc); err != nil {
		return nil, fmt.Errorf("read the inventory in force: %w", err)
	}
	curRoot := docRoot(&curDoc)
	csvRoot := docRoot(&csvDoc)
	header, zoned := csvHeader(data)
	for _, sec := range importSections {
		covered := map[string]bool{}
		for col, path := range csvColumnPaths[sec] {
			if header[col] {
				covered[path] = true
			}
		}
		part := planPart{Section: sec}
		items := mapGet(csvRoot, sec)
		if items == nil || len(items.Content) == 0 {
			plan.Parts = append(plan.Parts, part)
			continue
		}
		seq := mapGet(curRoot, sec)
		if seq == nil {
			seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			mapSet(curRoot, sec, seq)
		}
		at := map[string]int{}
		for i, it := range seq.Content {
			if id := scalarOf(mapGet(it, "id")); id != "" {
				if _, dup := at[id]; !dup {
					at[id] = i
				}
			}
		}
		for _, it := range items.Content {
			id := scalarOf(mapGet(it, "id"))
			if sec == "sites" && !zoned[id] {
				mapDel(it, "timezone")
			}
			i, ok := at[id]
			if !ok {
				at[id] = len(seq.Content)
				seq.Content = append(seq.Content, it)
				part.Added = append(part.Added, id)
				continue
			}
			old := seq.Content[i]
			keepUncovered(old, it, covered, "")
			if keys := changedKeys(old, it); len(keys) > 0 {
				part.Changed = append(part.Changed, changedEntry{ID: id, Keys: keys})
			} else {
				part.Unchanged++
			}
			seq.Content[i] = it
		}
		plan.Changes += len(part.Added) + len(part.Changed)
		part.capped()
		plan.Parts = append(plan.Parts, part)
	}
	merged, err := yaml.Marshal(&curDoc)
	if err != nil {
		return nil, fmt.Errorf("write the merged inventory: %w", err)
	}
	plan.Merged = merged
	if _, err := inventory.Parse(mergedName, merged); err != nil {
		plan.Problems, plan.NProblems = problemLines(err)
		// The merged file is not on the page: name each entry by its id.
		for i, l := range plan.Problems {
			plan.Problems[i] = entryRE.ReplaceAllStringFunc(l, func(m string) string {
				sm := entryRE.FindStringSubmatch(m)
				n, _ := strconv.Atoi(sm[2])
				if seq := mapGet(curRoot, sm[1]); seq != nil && n < len(seq.Content) {
					if id := scalarOf(mapGet(seq.Content[n], "id")); id != "" {
						return m + " (" + id + ")"
					}
				}
				return m
			})
		}
	}
	return plan, nil
}

// entryRE finds an entry's index in a problem's path.
var entryRE = regexp.MustCompile(`\b(sites|links|devices|services|opds)\[(\d+)\]`)

// mergedName names the merged inventory in its problems.
const mergedName = "inventaris gabungan"

// problemLines are the lines of a joined validation error, at most
// maxProblems of them plus a line that counts the rest, and their
// number.
func problemLines(err error) ([]string, int) {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		for _, l := range strings.Split(e.Error(), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	walk(err)
	n := len(out)
	if n > maxProblems {
		out = append(out[:maxProblems:maxProblems], fmt.Sprintf("… %d more", n-maxProblems))
	}
	return out, n
}

// csvHeader reads the CSV's header row as ImportCSV does (a BOM, ';' as
// the separator when the header has ';' and no ',') and the sites with a
// timezone cell. Problems are ImportCSV's to report: a file it accepted
// reads here too.
func csvHeader(data []byte) (cols map[string]bool, zoned map[string]bool) {
	cols, zoned = map[string]bool{}, map[string]bool{}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	first := data
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.IndexByte(first, ';') >= 0 && bytes.IndexByte(first, ',') < 0 {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return cols, zoned
	}
	idx := map[string]int{}
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		cols[name] = true
		idx[name] = i
	}
	si, ok1 := idx["site_id"]
	ti, ok2 := idx["timezone"]
	for ok1 && ok2 {
		rec, err := r.Read()
		if err != nil {
			break
		}
		if si < len(rec) && ti < len(rec) && strings.TrimSpace(rec[ti]) != "" {
			zoned[strings.TrimSpace(rec[si])] = true
		}
	}
	return cols, zoned
}

// keepUncovered copies into nu the keys of old that the CSV does not
// decide (covered holds the dotted paths it does), below prefix.
func keepUncovered(old, nu *yaml.Node, covered map[string]bool, prefix string) {
	if old.Kind != yaml.MappingNode || nu.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(old.Content); i += 2 {
		k, v := old.Content[i].Value, old.Content[i+1]
		p := prefix + k
		if covered[p] {
			continue
		}
		if v.Kind == yaml.MappingNode && coversUnder(covered, p) {
			if nv := mapGet(nu, k); nv != nil {
				keepUncovered(v, nv, covered, p+".")
			}
			continue
		}
		mapSet(nu, k, v)
	}
	// What the file does not decide and the entry does not have stays
	// unset (the CSV's import filled in a default, such as type: fibre).
	for i := 0; i+1 < len(nu.Content); {
		k := nu.Content[i].Value
		p := prefix + k
		if !covered[p] && !coversUnder(covered, p) && mapGet(old, k) == nil {
			nu.Content = slices.Delete(nu.Content, i, i+2)
			continue
		}
		i += 2
	}
}

func coversUnder(covered map[string]bool, p string) bool {
	for c := range covered {
		if strings.HasPrefix(c, p+".") {
			return true
		}
	}
	return false
}

// changedKeys lists the dotted keys whose values differ between a and b.
func changedKeys(a, b *yaml.Node) []string {
	fa, fb := map[string]string{}, map[string]string{}
	flatten(a, "", fa)
	flatten(b, "", fb)
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// flatten puts the leaves of n into m by dotted path; a sequence is one
// leaf.
func flatten(n *yaml.Node, prefix string, m map[string]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			flatten(n.Content[i+1], prefix+n.Content[i].Value+".", m)
		}
	case yaml.ScalarNode:
		m[strings.TrimSuffix(prefix, ".")] = n.Value
	default:
		var parts []string
		for _, c := range n.Content {
			sub := map[string]string{}
			flatten(c, "", sub)
			keys := make([]string, 0, len(sub))
			for k, v := range sub {
				keys = append(keys, k+"="+v)
			}
			slices.Sort(keys)
			parts = append(parts, strings.Join(keys, ","))
		}
		m[strings.TrimSuffix(prefix, ".")] = "[" + strings.Join(parts, ";") + "]"
	}
}

// docRoot is the top mapping of a YAML document, made when the document
// is empty.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode {
		*doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	return doc.Content[0]
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mapSet(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func mapDel(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// addLink appends a link (its keys in order) to current, the YAML of
// the inventory in force, and returns the new inventory.
func addLink(current []byte, link [][2]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(current, &doc); err != nil {
		return nil, fmt.Errorf("read the inventory in force: %w", err)
	}
	root := docRoot(&doc)
	item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, kv := range link {
		if kv[1] == "" {
			continue
		}
		k, sub, nested := strings.Cut(kv[0], ".")
		if !nested {
			mapSet(item, k, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[1]})
			continue
		}
		g := mapGet(item, k)
		if g == nil {
			g = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			mapSet(item, k, g)
		}
		mapSet(g, sub, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[1]})
	}
	seq := mapGet(root, "links")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		mapSet(root, "links", seq)
	}
	seq.Content = append(seq.Content, item)
	return yaml.Marshal(&doc)
}
