package webui

func init() {
	texts(map[string][2]string{
		"beranda.title": {"Beranda", "Home"},
	})
	page("GET /ui/{$}", func(u *UI) func(*Ctx) error { return u.beranda })
}

func (u *UI) beranda(c *Ctx) error {
	c.RenderPage("beranda", &Page{Title: c.T("beranda.title")})
	return nil
}
