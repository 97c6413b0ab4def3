package report

import "testing"

// TestScheduleTextIndonesian: an Indonesian report writes the schedule
// in Indonesian (it printed "mon-fri 07:30-16:00, excl. holidays"); an
// English one as the inventory does; a form it does not know stays as
// it is.
func TestScheduleTextIndonesian(t *testing.T) {
	for _, c := range []struct{ lang, in, want string }{
		{LangID, "mon-fri 07:30-16:00, excl. holidays", "Sen–Jum 07:30-16:00, kecuali hari libur"},
		{LangID, "kantor: mon-sat 06:00-22:00", "kantor: Sen–Sab 06:00-22:00"},
		{LangID, "mon,wed,sun 00:00-24:00, excl. holidays", "Sen, Rab, Min 00:00-24:00, kecuali hari libur"},
		{LangID, "24x7", "24 jam"},
		{LangID, "jadwal: khusus: 24x7", "jadwal: khusus: 24 jam"},
		{LangID, "", ""},
		{LangID, "something else", "something else"},
		{LangEN, "mon-fri 07:30-16:00, excl. holidays", "mon-fri 07:30-16:00, excl. holidays"},
	} {
		if got := scheduleText(c.lang, c.in); got != c.want {
			t.Errorf("scheduleText(%s, %q) = %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
