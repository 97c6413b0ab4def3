package report

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/inventory"
	"github.com/pantau-noc/pantau/collector/internal/sla"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

func buildWith(t *testing.T, db *statedb.DB, o Options) *Report {
	t.Helper()
	inv, err := inventory.Parse("inventory.yml", []byte(buildInventory))
	if err != nil {
		t.Fatal(err)
	}
	o.Zone, o.Now, o.CoverageMonths = wib, time.Date(2026, 11, 2, 9, 0, 0, 0, wib), 1
	r, err := Build(context.Background(), Input{Inv: inv, Store: db.Minutes(), Index: db.Minutes(), Windows: []sla.Window{}, Reviews: db, Audit: db}, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestChangeRecord: the whole-Pemda report lists the audit rows of its
// period only (a millisecond before or at the end is out), oldest first,
// in the report's zone and language, in every format; a report of an
// OPD, of a site or for a scoped reader has none and says why.
func TestChangeRecord(t *testing.T) {
	_, db := buildFixture(t)
	for _, lang := range []string{LangID, LangEN} {
		r := buildWith(t, db, Options{Period: "2026-10", Lang: lang})
		var objects []string
		for _, c := range r.Changes {
			objects = append(objects, c.Object)
			if c.At.Location() != wib {
				t.Errorf("%s: change at %v, want the report's zone", lang, c.At)
			}
		}
		if want := []string{"review/1", "maintenance/2"}; !slices.Equal(objects, want) {
			t.Fatalf("%s: changes %q, want %q", lang, objects, want)
		}
		if r.ChangesNote != "" {
			t.Errorf("%s: note %q on a report with its change record", lang, r.ChangesNote)
		}
		var csv bytes.Buffer
		if err := Render(&csv, r, "csv", "changes"); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			LangID: "waktu,jenis pelaku,pelaku,id pelaku,tindakan,objek,ringkasan\n" +
				"2026-10-01 00:00:00 WIB,baris perintah,root,root,cli review add,review/1,review 2026-10 held 2026-10-28\n" +
				"2026-10-20 07:55:00 WIB,token API,noc-script,t_4f2a,POST /api/v1/maintenance,maintenance/2,link dinkes-wan 2026-10-20 08:00–09:00 WIB: ganti perangkat <ONT>\n",
			LangEN: "time,actor kind,actor,actor id,action,object,summary\n" +
				"2026-10-01 00:00:00 WIB,command line,root,root,cli review add,review/1,review 2026-10 held 2026-10-28\n" +
				"2026-10-20 07:55:00 WIB,API token,noc-script,t_4f2a,POST /api/v1/maintenance,maintenance/2,link dinkes-wan 2026-10-20 08:00–09:00 WIB: ganti perangkat <ONT>\n",
		}[lang]
		if csv.String() != want {
			t.Errorf("%s: csv table=changes\n%s\nwant\n%s", lang, csv.String(), want)
		}
		var html bytes.Buffer
		if err := Render(&html, r, "html", ""); err != nil {
			t.Fatal(err)
		}
		title := map[string]string{LangID: "<h2>Catatan perubahan</h2>", LangEN: "<h2>Change record</h2>"}[lang]
		if !strings.Contains(html.String(), title) || !strings.Contains(html.String(), "ganti perangkat &lt;ONT&gt;") {
			t.Errorf("%s: html without the change record", lang)
		}
		if strings.Contains(html.String(), "not in the report") {
			t.Errorf("%s: html lists a change outside the period", lang)
		}
	}
	// a shorter period: only the row in it
	if r := buildWith(t, db, Options{Period: "2026-10-20..2026-10-20"}); len(r.Changes) != 1 || r.Changes[0].Object != "maintenance/2" {
		t.Errorf("2026-10-20: changes %+v, want maintenance/2 only", r.Changes)
	}
	for name, o := range map[string]Options{
		"opd":    {Period: "2026-10", OPD: "dinkes"},
		"opds":   {Period: "2026-10", OPDs: []string{"dinkes", "disdik"}},
		"site":   {Period: "2026-10", Site: "dinkes"},
		"reader": {Period: "2026-10", OPD: "dinkes", Reader: []string{"dinkes"}},
	} {
		r := buildWith(t, db, o)
		if len(r.Changes) != 0 || !strings.Contains(r.ChangesNote, "whole-Pemda reports") && !strings.Contains(r.ChangesNote, "laporan seluruh Pemda") {
			t.Errorf("%s: changes %+v, note %q; want none and the note", name, r.Changes, r.ChangesNote)
		}
		var html bytes.Buffer
		if err := Render(&html, r, "html", ""); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(html.String(), r.ChangesNote) {
			t.Errorf("%s: the html does not say why the change record is empty", name)
		}
	}
}

// TestBuildOPDSet: a report of two OPDs has their sites, links, services
// and assets and nothing of a third; for a scoped reader, only the
// reviews of its OPDs and their follow-ups.
func TestBuildOPDSet(t *testing.T) {
	_, db := buildFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, wib)
	// a September review of disdik whose follow-up is carried over, and
	// an October review of bappeda
	rid, err := db.AddReview(ctx, statedb.Review{Month: "2026-09", HeldOn: "2026-09-28", Scope: "disdik", Participants: "Disdik", Findings: "radio"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddFollowUp(ctx, statedb.FollowUp{ReviewID: rid, Opened: "2026-09-28", Item: "ganti radio disdik", Owner: "Disdik"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddReview(ctx, statedb.Review{Month: "2026-10", HeldOn: "2026-10-29", Scope: "bappeda", Participants: "Bappeda", Findings: "sipd"}, now); err != nil {
		t.Fatal(err)
	}
	sites := func(r *Report) (out []string) {
		for _, s := range r.Sites {
			out = append(out, s.Site)
		}
		return out
	}
	r := buildWith(t, db, Options{Period: "2026-10", OPDs: []string{"dinkes", "disdik"}})
	if got, want := sites(r), []string{"dinkes", "disdik", "distrik-aimas"}; !slices.Equal(got, want) {
		t.Errorf("sites %q, want %q", got, want)
	}
	if r.Scope.Kind != "opds" || r.Scope.ID != "dinkes,disdik" || r.Scope.Name != "Dinas Kesehatan, Dinas Pendidikan" {
		t.Errorf("scope %+v", r.Scope)
	}
	var links []string
	for _, l := range r.Links {
		links = append(links, l.Link)
	}
	if want := []string{"dinkes-wan", "disdik-wan", "aimas-vsat"}; !slices.Equal(links, want) {
		t.Errorf("links %q, want %q", links, want)
	}
	if len(r.Services) != 1 || r.Services[0].Service != "sipd" { // hosted at dinkes
		t.Errorf("services %+v, want sipd (hosted at dinkes)", r.Services)
	}
	if len(r.Reviews) != 2 { // an unscoped reader: every review of the period
		t.Errorf("%d reviews for an unscoped reader, want 2", len(r.Reviews))
	}
	// a single OPD in the set is that OPD's report
	one := buildWith(t, db, Options{Period: "2026-10", OPDs: []string{"bappeda"}})
	if got := sites(one); !slices.Equal(got, []string{"bappeda"}) || len(one.Services) != 1 {
		t.Errorf("bappeda: sites %q services %d, want bappeda and sipd (its own)", got, len(one.Services))
	}

	// a reader scoped to disdik and bappeda: the bappeda review, the
	// disdik follow-up carried over; not the Pemda review nor its item
	r = buildWith(t, db, Options{Period: "2026-10", OPDs: []string{"disdik", "bappeda"}, Reader: []string{"disdik", "bappeda"}})
	if len(r.Reviews) != 1 || r.Reviews[0].Scope != "bappeda" {
		t.Errorf("reviews %+v, want bappeda's only", r.Reviews)
	}
	if len(r.FollowUps) != 1 || r.FollowUps[0].Item != "ganti radio disdik" || r.Summary.OpenFollowUps != 1 || r.Summary.ClosedFollowUps != 0 {
		t.Errorf("follow-ups %+v (open %d, closed %d), want the disdik one, open", r.FollowUps, r.Summary.OpenFollowUps, r.Summary.ClosedFollowUps)
	}
	if got := sites(r); !slices.Equal(got, []string{"disdik", "bappeda"}) {
		t.Errorf("sites %q", got)
	}

	for _, o := range []Options{
		{Period: "2026-10", OPDs: []string{"dinkes"}, OPD: "dinkes"},
		{Period: "2026-10", OPDs: []string{"dinkes"}, Site: "dinkes"},
		{Period: "2026-10", OPDs: []string{"nope", "nada"}},
	} {
		inv, _ := inventory.Parse("inventory.yml", []byte(buildInventory))
		if _, err := Build(ctx, Input{Inv: inv, Store: db.Minutes()}, o); err == nil || !strings.Contains(err.Error(), "invalid report request") {
			t.Errorf("%+v: %v, want an invalid request", o, err)
		}
	}
}
