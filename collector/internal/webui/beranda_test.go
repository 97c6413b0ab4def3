package webui

import (
	"math"
	"testing"
)

func pt(lat, lon float64) (*float64, *float64) { return &lat, &lon }

// TestSiteMap: the projection keeps every point inside the drawing,
// north up and east right, with a degree of longitude cos(latitude) of
// one of latitude; one point is centred; sites without coordinates are
// left out.
func TestSiteMap(t *testing.T) {
	site := func(id string, lat, lon float64, state string) siteStatus {
		la, lo := pt(lat, lon)
		return siteStatus{ID: id, Name: id, State: state, Lat: la, Lon: lo}
	}
	if m := newSiteMap([]siteStatus{{ID: "x", State: "up"}}); m != nil {
		t.Fatalf("a map without coordinates: %+v", m)
	}
	m := newSiteMap([]siteStatus{site("a", 0, 100, "up")})
	if ps := m.Points(); len(ps) != 1 || ps[0].X != mapW/2 || ps[0].Y != m.H/2 {
		t.Errorf("one point: %+v in %dx%d", ps, m.W, m.H)
	}
	// A box 10° wide at 60° north is 5° of latitude wide: twice as wide
	// as high.
	m = newSiteMap([]siteStatus{site("sw", 58, 0, "down"), site("ne", 62, 10, "up"), site("c", 60, 5, "weird"), {ID: "none"}})
	ps := m.Points()
	if len(ps) != 3 {
		t.Fatalf("points %+v", ps)
	}
	at := map[string]mapPoint{}
	for _, p := range ps {
		if p.X < 0 || p.X > m.W || p.Y < 0 || p.Y > m.H {
			t.Errorf("%+v outside %dx%d", p, m.W, m.H)
		}
		at[p.Name] = p
	}
	sw, ne, c := at["sw"], at["ne"], at["c"]
	if sw.X >= ne.X || sw.Y <= ne.Y {
		t.Errorf("north is not up or east not right: sw %+v ne %+v", sw, ne)
	}
	ratio := float64(ne.X-sw.X) / float64(sw.Y-ne.Y)
	if want := 10 * math.Cos(60*math.Pi/180) / 4; math.Abs(ratio-want) > 0.02 {
		t.Errorf("width/height %.3f, want %.3f", ratio, want)
	}
	if c.state != "nodata" || (c.X-sw.X)*2-(ne.X-sw.X) > 1 {
		t.Errorf("the centre %+v (an unknown state is drawn as nodata)", c)
	}
	if ps[len(ps)-1].Name != "sw" || m.Groups[len(m.Groups)-1].State != "down" {
		t.Errorf("the down site is not drawn last (on top): %+v", m.Groups)
	}
	if len(m.Legend) != 3 || m.Legend[0].State != "down" || !m.Labels {
		t.Errorf("legend %+v labels %v", m.Legend, m.Labels)
	}
	// Tall: 10° of latitude, 1° of longitude fits the height.
	m = newSiteMap([]siteStatus{site("s", -10, 120, "up"), site("n", 0, 121, "up")})
	if ps := m.Points(); m.H != mapMaxH || ps[0].Y < 0 || ps[1].Y > m.H {
		t.Errorf("tall map %dx%d %+v", m.W, m.H, ps)
	}
	if got := clipRunes("Puskesmas Kampung Baru", 10); got != "Puskesmas…" {
		t.Errorf("clipRunes: %q", got)
	}
}
