package inventory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/internal/yamlconf"
)

// siteColumn is a CSV column that describes the row's site.
type siteColumn struct {
	name string
	path string // below sites[i]
	set  func(s *Site, v string) error
	get  func(s *Site) string // canonical value, "" when unset
}

// linkColumn is a CSV column that describes the row's link.
type linkColumn struct {
	name     string
	path     string // below links[i]
	contract bool   // a contract column: a non-empty cell makes a contract
	set      func(l *Link, v string) error
}

var siteColumns = []siteColumn{
	{"site_id", "id", nil, nil}, // handled by the importer
	{"site_name", "name", func(s *Site, v string) error { s.Name = v; return nil }, func(s *Site) string { return s.Name }},
	{"kind", "kind", func(s *Site, v string) error { s.Kind = strings.ToLower(v); return nil }, func(s *Site) string { return s.Kind }},
	{"opd", "opd", func(s *Site, v string) error { s.OPD = v; return nil }, func(s *Site) string { return s.OPD }},
	{"district", "district", func(s *Site, v string) error { s.District = v; return nil }, func(s *Site) string { return s.District }},
	{"parent", "parent", func(s *Site, v string) error { s.Parent = v; return nil }, func(s *Site) string { return s.Parent }},
	{"lat", "lat", func(s *Site, v string) error { return setFloatPtr(&s.Lat, v) }, func(s *Site) string { return fmtFloatPtr(s.Lat) }},
	{"lon", "lon", func(s *Site, v string) error { return setFloatPtr(&s.Lon, v) }, func(s *Site) string { return fmtFloatPtr(s.Lon) }},
	{"timezone", "timezone", func(s *Site, v string) error { s.TimeZone = canonicalTimeZone(v); return nil }, func(s *Site) string { return s.TimeZone }},
	{"sla_target", "sla_target", func(s *Site, v string) (err error) { s.SLATarget, err = parsePercent(v); return err },
		func(s *Site) string { return fmtFloat(s.SLATarget) }},
}

var linkColumns = []linkColumn{
	{"link_id", "id", false, nil}, // handled by the importer
	{"link_name", "name", false, func(l *Link, v string) error { l.Name = v; return nil }},
	{"type", "type", false, func(l *Link, v string) error { l.Type = strings.ToLower(v); return nil }},
	{"isp", "isp", false, func(l *Link, v string) error { l.ISP = v; return nil }},
	{"circuit", "circuit", false, func(l *Link, v string) error { l.Circuit = v; return nil }},
	{"bandwidth", "bandwidth", false, func(l *Link, v string) (err error) {
		l.Bandwidth, err = ParseBandwidth(decimalComma(v))
		return err
	}},
	{"icmp_target", "icmp.target", false, func(l *Link, v string) error { l.ICMP.Target = v; return nil }},
	{"icmp_agent", "icmp.agent", false, func(l *Link, v string) error { l.ICMP.Agent = v; return nil }},
	{"snmp_device", "snmp.device", false, func(l *Link, v string) error { l.SNMP.Device = v; return nil }},
	{"snmp_interface", "snmp.interface", false, func(l *Link, v string) error { l.SNMP.Interface = v; return nil }},
	{"loss_threshold", "thresholds.loss_ratio", false, func(l *Link, v string) error {
		x, err := parseRatio(v)
		if err == nil {
			l.Thresholds.LossRatio = &x
		}
		return err
	}},
	{"rtt_threshold", "thresholds.rtt", false, func(l *Link, v string) error {
		d, err := yamlconf.ParseDuration(v)
		if err == nil {
			x := yamlconf.Duration(d)
			l.Thresholds.RTT = &x
		}
		return err
	}},
	{"signal_threshold", "thresholds.signal_dbm", false, func(l *Link, v string) error {
		x, err := parseNumber(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "dBm")))
		if err == nil {
			l.Thresholds.SignalDBm = &x
		}
		return err
	}},
	{"contract_target", "contract.target", true, func(l *Link, v string) error {
		x, err := parsePercent(v)
		if err == nil {
			contractOf(l).Target = x
		}
		return err
	}},
	{"min_outage", "contract.min_outage", true, func(l *Link, v string) error {
		d, err := yamlconf.ParseDuration(v)
		if err == nil {
			contractOf(l).MinOutage = yamlconf.Duration(d)
		}
		return err
	}},
	{"exclude", "contract.exclude", true, func(l *Link, v string) error {
		x := []string{}
		if !strings.EqualFold(v, "none") {
			for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
				if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
					x = append(x, f)
				}
			}
		}
		contractOf(l).Exclude = x
		return nil
	}},
	{"monthly_fee", "contract.monthly_fee", true, func(l *Link, v string) error {
		x, err := parseRupiah(v)
		if err == nil {
			contractOf(l).MonthlyFee = x
		}
		return err
	}},
	{"restitution", "contract.restitution", true, func(l *Link, v string) error {
		contractOf(l).Restitution = strings.ToLower(v)
		return nil
	}},
	{"contract_start", "contract.start", true, func(l *Link, v string) error {
		d, err := ParseDate(v)
		if err == nil {
			contractOf(l).Start = d
		}
		return err
	}},
	{"contract_end", "contract.end", true, func(l *Link, v string) error {
		d, err := ParseDate(v)
		if err == nil {
			contractOf(l).End = d
		}
		return err
	}},
}

// columnOfPath maps a path below sites[i] or links[i] to its CSV column.
var columnOfPath = func() map[string]string {
	m := map[string]string{
		"sites[]":            "site_id",
		"links[]":            "link_id",
		"links[].site":       "site_id",
		"links[].icmp":       "icmp_target",
		"links[].snmp":       "snmp_device",
		"links[].thresholds": "loss_threshold",
		"links[].contract":   "contract_target",
		"links[].sla_target": "contract_target",
		"opds[]":             "opd_name",
		"opds[].id":          "opd",
		"opds[].name":        "opd_name",
	}
	for _, c := range siteColumns {
		m["sites[]."+c.path] = c.name
	}
	for _, c := range linkColumns {
		m["links[]."+c.path] = c.name
	}
	return m
}()

var indexRE = regexp.MustCompile(`\[\d+\]`)

// csvColumn names the CSV column of a YAML path such as "links[3].icmp.target".
func csvColumn(path string) string {
	key := strings.TrimSuffix(indexRE.ReplaceAllString(path, "[]"), "[]")
	if c, ok := columnOfPath[key]; ok {
		return c
	}
	if c, ok := columnOfPath[key+"[]"]; ok {
		return c
	}
	return path
}

func contractOf(l *Link) *Contract {
	if l.Contract == nil {
		l.Contract = &Contract{}
	}
	return l.Contract
}

// decimalComma turns a decimal comma ("99,5", as the Indonesian locale
// writes numbers) into a point when the value has no point.
func decimalComma(v string) string {
	if strings.Count(v, ",") == 1 && !strings.Contains(v, ".") {
		return strings.Replace(v, ",", ".", 1)
	}
	return v
}

func parseNumber(v string) (float64, error) {
	x, err := strconv.ParseFloat(decimalComma(v), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number: %q", v)
	}
	return x, nil
}

// parsePercent reads a percentage, "99.5" or "99.5%".
func parsePercent(v string) (float64, error) {
	return parseNumber(strings.TrimSpace(strings.TrimSuffix(v, "%")))
}

// parseRatio reads a ratio, "0.02" or "2%".
func parseRatio(v string) (float64, error) {
	if p, ok := strings.CutSuffix(v, "%"); ok {
		x, err := parseNumber(strings.TrimSpace(p))
		return x / 100, err
	}
	return parseNumber(v)
}

var (
	rupiahPrefixRE = regexp.MustCompile(`^(?i:rp\.?)\s*`)
	rupiahCentsRE  = regexp.MustCompile(`[.,](?:00|-)$`)
	groupedRE      = regexp.MustCompile(`^\d{1,3}(?:([.,\s])\d{3})(?:[.,\s]\d{3})*$`)
)

// parseRupiah reads an amount of rupiah: "15000000", "15.000.000",
// "15,000,000", "Rp 15.000.000" or "Rp15.000.000,-".
func parseRupiah(v string) (int64, error) {
	bad := fmt.Errorf("not a whole number of rupiah: %q", v)
	s := strings.ReplaceAll(v, "\u00a0", " ")
	s = rupiahPrefixRE.ReplaceAllString(strings.TrimSpace(s), "")
	if loc := rupiahCentsRE.FindStringIndex(s); loc != nil {
		// Zero cents ("15.000.000,00") or a dash ("15.000.000,-"): the
		// decimal separator must not also group the digits.
		sep := s[loc[0] : loc[0]+1]
		s = s[:loc[0]]
		if strings.Contains(s, sep) {
			return 0, bad
		}
	}
	if m := groupedRE.FindStringSubmatch(s); m != nil {
		// Digit groups: removed when one separator is used throughout.
		if t := strings.ReplaceAll(s, m[1], ""); strings.Trim(t, "0123456789") == "" {
			s = t
		}
	}
	x, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, bad
	}
	return x, nil
}

func setFloatPtr(p **float64, v string) error {
	x, err := parseNumber(v)
	if err != nil {
		return err
	}
	*p = &x
	return nil
}

func fmtFloat(x float64) string {
	if x == 0 {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func fmtFloatPtr(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// canonicalTimeZone spells a known time zone name as the inventory does,
// whatever its case ("wib" is WIB); other values are kept for validation
// to reject.
func canonicalTimeZone(v string) string {
	for _, tz := range timeZoneNames {
		if strings.EqualFold(v, tz) {
			return tz
		}
	}
	return v
}

type cellPos struct{ line, col int }

// importer builds an inventory from CSV rows.
type importer struct {
	name   string
	inv    *Inventory
	pos    map[string]cellPos // YAML path -> the cell it came from
	errs   []*yamlconf.FieldError
	sites  map[string]int // site id -> index
	setAt  []map[string]int
	header map[string]int // column name -> field index
}

// AddNear records a validation problem at the cell of path or of its
// nearest ancestor.
func (im *importer) AddNear(path, format string, args ...any) {
	fe := &yamlconf.FieldError{File: im.name, Path: csvColumn(path), Msg: fmt.Sprintf(format, args...)}
	for at := path; at != ""; at = parentPath(at) {
		if p, ok := im.pos[at]; ok {
			fe.Line, fe.Col = p.line, p.col
			break
		}
	}
	im.errs = append(im.errs, fe)
}

func (im *importer) line(path string) int {
	for at := path; at != ""; at = parentPath(at) {
		if p, ok := im.pos[at]; ok {
			return p.line
		}
	}
	return 0
}

func (im *importer) cellError(p cellPos, column string, err error) {
	im.errs = append(im.errs, &yamlconf.FieldError{File: im.name, Line: p.line, Col: p.col, Path: column, Msg: err.Error()})
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ImportCSV builds an inventory from a spreadsheet saved as CSV, one row per
// link; a row with an empty link_id only declares its site.
//
// The header row is required. Its columns, in any order, are site_id,
// site_name, kind, opd, opd_name (the OPD's name), district, parent, lat,
// lon, timezone, sla_target,
// link_id, link_name, type, isp, circuit, bandwidth, icmp_target,
// icmp_agent, snmp_device, snmp_interface, loss_threshold, rtt_threshold,
// signal_threshold,
// contract_target, min_outage, exclude (values separated by ';' or ','),
// monthly_fee, restitution, contract_start and contract_end; site_id,
// site_name and kind are required, an unknown column is an error. The site
// columns of rows of the same site must agree; an empty cell there takes
// the value from the site's other rows.
//
// The file may start with a UTF-8 BOM and use ';' as the separator (when
// the header has ';' and no ','), as Excel writes in the Indonesian locale.
// Cells are trimmed; numbers may use a decimal comma ("99,5"); percentages
// may end in '%' (loss_threshold "2%" is 0.02); monthly_fee may be written
// "Rp 15.000.000,-"; exclude "none" is an empty list; kind, type,
// restitution, exclude and timezone are case-insensitive.
//
// Every problem is reported, joined, as "name:line:col: column: message";
// the inventory is then validated as Parse does, with each problem located
// at the row and column it came from.
func ImportCSV(name string, r io.Reader) (*Inventory, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	first := data
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.IndexByte(first, ';') >= 0 && bytes.IndexByte(first, ',') < 0 {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1

	im := &importer{name: name, inv: &Inventory{File: name}, pos: map[string]cellPos{}, sites: map[string]int{}}
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &yamlconf.FieldError{File: name, Msg: "empty file: the header row is required"}
	}
	if err != nil {
		return nil, im.readError(err)
	}
	if !im.readHeader(cr, rec) {
		return nil, im.err()
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, im.readError(err)
		}
		im.row(cr, rec)
	}

	cellErrs := im.errs
	im.errs = nil
	im.inv.prepare(im, nil)
	// A bad cell left its value unset; drop the validation problems that
	// only repeat it.
	bad := map[cellPos]bool{}
	for _, e := range cellErrs {
		bad[cellPos{e.Line, e.Col}] = true
	}
	im.errs = slices.DeleteFunc(im.errs, func(e *yamlconf.FieldError) bool { return bad[cellPos{e.Line, e.Col}] })
	im.errs = append(cellErrs, im.errs...)
	if len(im.errs) > 0 {
		return nil, im.err()
	}
	return im.inv, nil
}

// readError returns a CSV syntax error with the problems found so far, or
// another error wrapped.
func (im *importer) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		im.errs = append(im.errs, &yamlconf.FieldError{File: im.name, Line: pe.Line, Col: pe.Column, Msg: "CSV syntax: " + pe.Err.Error()})
		return im.err()
	}
	return fmt.Errorf("read %s: %w", im.name, err)
}

// err returns the problems in file order, joined.
func (im *importer) err() error {
	sort.SliceStable(im.errs, func(i, j int) bool {
		a, b := im.errs[i], im.errs[j]
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	errs := make([]error, len(im.errs))
	for i, e := range im.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// readHeader maps the columns; false when the header is unusable.
func (im *importer) readHeader(cr *csv.Reader, rec []string) bool {
	known := map[string]bool{}
	var names []string
	for _, c := range siteColumns {
		known[c.name] = true
		names = append(names, c.name)
	}
	for _, c := range linkColumns {
		known[c.name] = true
		names = append(names, c.name)
	}
	known["opd_name"] = true // the name of the row's OPD (opds.go)
	names = append(names, "opd_name")
	im.header = map[string]int{}
	for i, h := range rec {
		line, col := cr.FieldPos(i)
		p := cellPos{line, col}
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(h):
			im.cellError(p, "", errors.New("the header is not valid UTF-8; save the sheet as \"CSV UTF-8\""))
		case name == "":
			// An unnamed column must stay empty; see row.
		case !known[name]:
			im.cellError(p, strings.TrimSpace(h), fmt.Errorf("unknown column; the columns are %s", strings.Join(names, ", ")))
		default:
			if _, dup := im.header[name]; dup {
				im.cellError(p, name, errors.New("column given twice"))
			} else {
				im.header[name] = i
			}
		}
	}
	for _, req := range []string{"site_id", "site_name", "kind"} {
		if _, ok := im.header[req]; !ok {
			im.errs = append(im.errs, &yamlconf.FieldError{File: im.name, Line: 1, Col: 1, Path: req,
				Msg: "required column missing from the header row"})
		}
	}
	if _, ok := im.header["link_id"]; !ok {
		for _, c := range linkColumns {
			if i, ok := im.header[c.name]; ok {
				line, col := cr.FieldPos(i)
				im.cellError(cellPos{line, col}, c.name, errors.New("a link column needs a link_id column"))
			}
		}
	}
	return len(im.errs) == 0
}

// row reads one data row.
func (im *importer) row(cr *csv.Reader, rec []string) {
	cells := make([]string, len(rec))
	empty := true
	for i, v := range rec {
		cells[i] = strings.TrimSpace(v)
		if cells[i] != "" {
			empty = false
		}
	}
	if empty {
		return // a blank row of the sheet
	}
	at := func(i int) cellPos {
		line, col := cr.FieldPos(i)
		return cellPos{line, col}
	}
	named := map[int]bool{}
	for _, i := range im.header {
		named[i] = true
	}
	ok := true
	for i, v := range cells {
		switch {
		case !utf8.ValidString(v):
			im.cellError(at(i), "", errors.New("not valid UTF-8; save the sheet as \"CSV UTF-8\""))
			ok = false
		case v != "" && !named[i]:
			im.cellError(at(i), "", fmt.Errorf("cell %q is in a column without a name in the header", v))
			ok = false
		}
	}
	if !ok {
		return
	}
	// cell returns the value and position of a column; ok is false when
	// the column is not in the header or the row is too short for it, and
	// the position is then the row's start.
	cell := func(name string) (string, cellPos, bool) {
		i, in := im.header[name]
		if !in || i >= len(cells) {
			return "", at(0), false
		}
		return cells[i], at(i), true
	}

	siteID, sp, _ := cell("site_id")
	if siteID == "" {
		im.cellError(sp, "site_id", errors.New("required: every row names its site"))
		return
	}
	im.site(siteID, sp, cell)
	im.opdName(siteID, cell)

	linkID, lp, hasLinkCol := cell("link_id")
	if linkID == "" {
		if !hasLinkCol {
			return
		}
		for _, c := range linkColumns[1:] {
			if v, _, _ := cell(c.name); v != "" {
				im.cellError(lp, "link_id", fmt.Errorf("required when the row's link columns are filled (%s is %q); a row without link_id only declares its site", c.name, v))
				return
			}
		}
		return
	}
	li := len(im.inv.Links)
	im.inv.Links = append(im.inv.Links, Link{ID: linkID, Site: siteID})
	l := &im.inv.Links[li]
	path := fmt.Sprintf("links[%d]", li)
	im.pos[path] = lp
	im.pos[path+".id"] = lp
	im.pos[path+".site"] = sp
	var firstContract *cellPos
	for _, c := range linkColumns[1:] {
		v, p, in := cell(c.name)
		if !in {
			continue
		}
		im.pos[path+"."+c.path] = p
		if v == "" {
			continue
		}
		if c.contract && firstContract == nil {
			firstContract = &p
		}
		if err := c.set(l, v); err != nil {
			im.cellError(p, c.name, err)
		}
	}
	if l.Contract != nil {
		if p, ok := im.pos[path+".contract.target"]; ok {
			im.pos[path+".contract"] = p
		} else if firstContract != nil {
			im.pos[path+".contract"] = *firstContract
		}
	}
}

// site declares the row's site, or checks the row agrees with it.
func (im *importer) site(id string, idPos cellPos, cell func(string) (string, cellPos, bool)) {
	si, seen := im.sites[id]
	if !seen {
		si = len(im.inv.Sites)
		im.sites[id] = si
		im.inv.Sites = append(im.inv.Sites, Site{ID: id})
		im.setAt = append(im.setAt, map[string]int{})
		im.pos[fmt.Sprintf("sites[%d]", si)] = idPos
		im.pos[fmt.Sprintf("sites[%d].id", si)] = idPos
	}
	s := &im.inv.Sites[si]
	for _, c := range siteColumns[1:] {
		v, p, in := cell(c.name)
		if !in {
			continue
		}
		path := fmt.Sprintf("sites[%d].%s", si, c.path)
		if !seen {
			im.pos[path] = p // so that "required" points at the empty cell
		}
		if v == "" {
			continue
		}
		var got Site
		if err := c.set(&got, v); err != nil {
			im.cellError(p, c.name, err)
			continue
		}
		switch have := c.get(s); {
		case have == "":
			_ = c.set(s, v)
			im.pos[path] = p
			im.setAt[si][c.name] = p.line
		case have != c.get(&got):
			im.cellError(p, c.name, fmt.Errorf("%q disagrees with %q on line %d for site %q", c.get(&got), have, im.setAt[si][c.name], id))
		}
	}
}
