package inventory

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OPD is an agency (Organisasi Perangkat Daerah) of the Pemda, as sites
// and services name it in their `opd:`, with the name reports show for it
// ("Dinas Kesehatan" rather than dinkes). It is a struct so that more can
// be said of an OPD later (contacts, service hours).
type OPD struct {
	ID   string `yaml:"id"`   // required, unique, [a-z0-9][a-z0-9._-]*
	Name string `yaml:"name"` // required
	// ServiceHours are the OPD's sites' service hours when a site sets
	// none (hours.go: link or service → site → OPD → defaults).
	ServiceHours *ServiceHours `yaml:"service_hours,omitempty"`
	// Approval are the OPD's own signatories on the approval sheet of a
	// report of the OPD or one of its sites; a role left out keeps
	// report.approval of collector.yml.
	Approval *OPDApproval `yaml:"approval,omitempty"`
}

// OPDApproval is an OPD's signatories: disusun, diperiksa, disetujui.
type OPDApproval struct {
	PreparedBy *Signatory `yaml:"prepared_by,omitempty"`
	CheckedBy  *Signatory `yaml:"checked_by,omitempty"`
	ApprovedBy *Signatory `yaml:"approved_by,omitempty"`
}

// Signatory is one signatory: name, position (jabatan) and NIP.
type Signatory struct {
	Name  string `yaml:"name"`
	Title string `yaml:"title,omitempty"`
	NIP   string `yaml:"nip,omitempty"`
}

// OPDEntry returns the opds: entry of id, or nil.
func (inv *Inventory) OPDEntry(id string) *OPD {
	for i := range inv.OPDs {
		if inv.OPDs[i].ID == id {
			return &inv.OPDs[i]
		}
	}
	return nil
}

// OPDName is the name of OPD id: its `opds:` entry's, else the name of
// the OPD site whose id it is (an OPD's own office), else "".
func (inv *Inventory) OPDName(id string) string {
	for i := range inv.OPDs {
		if inv.OPDs[i].ID == id {
			return inv.OPDs[i].Name
		}
	}
	if s := inv.Site(id); s != nil && s.Kind == KindOPD {
		return s.Name
	}
	return ""
}

// opds validates the OPD entries: id and name required, ids unique.
// An OPD a site names need not have an entry (it is then shown by its id
// or its office's name).
func (v *validator) opds(opds []OPD) {
	seen := map[string]string{}
	for i := range opds {
		o := &opds[i]
		at := fmt.Sprintf("opds[%d]", i)
		v.id(at+".id", "OPD", o.ID, seen, true)
		if strings.TrimSpace(o.Name) == "" {
			v.add(at+".name", "required: the OPD's name as reports show it, such as \"Dinas Kesehatan\"")
		}
	}
}

// opdsNode writes the OPD entries.
func opdsNode(opds []OPD) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for i := range opds {
		m := mapping(true)
		m.str("id", opds[i].ID)
		m.str("name", opds[i].Name)
		hoursNode(m, opds[i].ServiceHours)
		if a := opds[i].Approval; a != nil {
			n := mapping(false)
			for _, r := range []struct {
				key string
				s   *Signatory
			}{{"prepared_by", a.PreparedBy}, {"checked_by", a.CheckedBy}, {"approved_by", a.ApprovedBy}} {
				if r.s != nil {
					g := mapping(true)
					g.str("name", r.s.Name)
					g.str("title", r.s.Title)
					g.str("nip", r.s.NIP)
					n.set(r.key, g.Node)
				}
			}
			m.set("approval", n.Node)
		}
		seq.Content = append(seq.Content, m.Node)
	}
	return seq
}

// opdName reads the CSV column opd_name: the name of the row's OPD (its
// opd cell, else the site itself when its kind is opd). Rows of the same
// OPD must agree.
func (im *importer) opdName(siteID string, cell func(string) (string, cellPos, bool)) {
	name, p, in := cell("opd_name")
	if !in || name == "" {
		return
	}
	s := &im.inv.Sites[im.sites[siteID]]
	id := s.OPD
	if id == "" && strings.EqualFold(s.Kind, KindOPD) {
		id = s.ID
	}
	if id == "" {
		im.cellError(p, "opd_name", errors.New("names an OPD, but the row has none: fill opd (or give the site kind opd)"))
		return
	}
	for i, o := range im.inv.OPDs {
		if o.ID != id {
			continue
		}
		if o.Name != name {
			im.cellError(p, "opd_name", fmt.Errorf("%q disagrees with %q on line %d for OPD %q", name, o.Name, im.pos[fmt.Sprintf("opds[%d].name", i)].line, id))
		}
		return
	}
	i := len(im.inv.OPDs)
	im.inv.OPDs = append(im.inv.OPDs, OPD{ID: id, Name: name})
	at := fmt.Sprintf("opds[%d]", i)
	im.pos[at], im.pos[at+".id"], im.pos[at+".name"] = p, p, p
}
