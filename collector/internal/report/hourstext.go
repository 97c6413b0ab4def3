package report

import "strings"

// scheduleText is a schedule as the inventory writes it ("kantor:
// mon-fri 07:30-16:00, excl. holidays", "24x7": see
// inventory.Schedule.String) in lang: in Indonesian "kantor: Sen–Jum
// 07:30-16:00, kecuali hari libur", "24 jam". The JSON keeps the
// inventory's form; this is for the tables (HTML, CSV, XLSX).
func scheduleText(lang, s string) string {
	if lang == LangEN || s == "" {
		return s
	}
	name, sched := "", s
	if i := strings.LastIndex(s, ": "); i >= 0 {
		name, sched = s[:i+2], s[i+2:]
	}
	if sched == "24x7" {
		return name + "24 jam"
	}
	days, rest, ok := strings.Cut(sched, " ")
	if !ok {
		return s
	}
	rest, excl := strings.CutSuffix(rest, ", excl. holidays")
	var out []string
	for _, d := range strings.Split(days, ",") {
		a, b, rng := strings.Cut(d, "-")
		da, okA := dayID[a]
		db, okB := dayID[b]
		switch {
		case !okA, rng && !okB:
			return s // not a form this knows: as it is
		case rng:
			out = append(out, da+"–"+db)
		default:
			out = append(out, da)
		}
	}
	text := name + strings.Join(out, ", ") + " " + rest
	if excl {
		text += ", kecuali hari libur"
	}
	return text
}

var dayID = map[string]string{"mon": "Sen", "tue": "Sel", "wed": "Rab", "thu": "Kam", "fri": "Jum", "sat": "Sab", "sun": "Min"}
