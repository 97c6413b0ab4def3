package webui

// NavItem is one entry of the main menu.
type NavItem struct {
	Key, Path string
	Active    bool
}

// menu is the main menu: each entry with the role it needs and whether
// it needs a credential without an OPD scope (as the API it shows).
var menu = []struct {
	key, path, role string
	unscoped        bool
}{
	{"beranda", "/ui/", "viewer", false},
	{"gangguan", "/ui/gangguan", "viewer", false},
	{"pemeliharaan", "/ui/pemeliharaan", "viewer", false},
	{"reviu", "/ui/reviu", "viewer", false},
	{"laporan", "/ui/laporan", "viewer", false},
	{"inventaris", "/ui/inventaris", "viewer", false},
	{"agen", "/ui/agen", "viewer", false},
	{"notifikasi", "/ui/notifikasi", "admin", true},
	{"audit", "/ui/audit", "admin", true},
}

// Menu is the main menu for the page's user.
func (p *Page) Menu() []NavItem {
	var out []NavItem
	for _, m := range menu {
		if !p.Can(m.role) || (m.unscoped && !p.Unscoped()) {
			continue
		}
		out = append(out, NavItem{Key: m.key, Path: m.path, Active: p.Nav == m.key})
	}
	return out
}
