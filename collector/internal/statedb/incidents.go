package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pantau-noc/pantau/collector/internal/sla"
)

// Label is an id with its Indonesian and English labels.
type Label struct {
	ID         string `json:"id"`
	Group      string `json:"group,omitempty"`
	Indonesian string `json:"label_id"`
	English    string `json:"label_en"`
}

// IncidentCategories are the incident categories of indicator 28
// (Manajemen Layanan), grouped: fisik (physical), logik (logical), ISP,
// keamanan (security), aplikasi nasional (a national application).
var IncidentCategories = []Label{
	{"fo_putus", "fisik", "FO putus", "Fibre cut"},
	{"listrik", "fisik", "Listrik", "Power"},
	{"perangkat", "fisik", "Perangkat", "Equipment"},
	{"konfigurasi", "logik", "Konfigurasi", "Configuration"},
	{"routing", "logik", "Routing", "Routing"},
	{"dns", "logik", "DNS", "DNS"},
	{"isp", "isp", "ISP", "ISP"},
	{"keamanan", "keamanan", "Keamanan", "Security"},
	{"aplikasi_nasional", "aplikasi_nasional", "Aplikasi nasional", "National application"},
}

// IncidentSources are how an incident became known.
var IncidentSources = []Label{
	{"otomatis", "", "Otomatis (pemantauan)", "Automatic (monitoring)"},
	{"whatsapp", "", "WhatsApp", "WhatsApp"},
	{"telepon", "", "Telepon", "Telephone"},
	{"tiket", "", "Tiket", "Ticket"},
}

// LabelOf returns the label of id in list (nil when unknown).
func LabelOf(list []Label, id string) *Label {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	return nil
}

func labelIDs(list []Label) string {
	ids := make([]string, len(list))
	for i, l := range list {
		ids[i] = l.ID
	}
	return strings.Join(ids, ", ")
}

// Incident scopes: what was out.
const (
	IncidentLink    = "link"
	IncidentSite    = "site"
	IncidentService = "service"
)

// Incident is an operator's record of one outage (indicator 28): the
// ticket, category, impact, action taken, officer and how it was
// reported, with an optional override of the computed cause.
//
// An outage is identified by what was out (Scope and Target: a link, a
// site, a service) and the minute it started (Start, truncated to the
// minute, stored as Unix minutes): the SLA engine computes outages from
// minute states, so a detected outage's start is always a whole minute
// and the same outage has the same start in every report. A record
// without End is attached to a detected outage; one with End describes
// an outage the monitoring did not detect (reported by telephone, a
// national application's outage) and carries its own times.
type Incident struct {
	ID             int64      `json:"id"`
	Scope          string     `json:"scope"`
	Target         string     `json:"target"`
	Start          time.Time  `json:"start"`
	End            *time.Time `json:"end,omitempty"`
	Detected       bool       `json:"detected"`
	Ticket         string     `json:"ticket,omitempty"`
	Category       string     `json:"category"`
	Impact         string     `json:"impact,omitempty"`
	Action         string     `json:"action,omitempty"`
	Officer        string     `json:"officer"`
	Source         string     `json:"source"`
	CauseOverride  string     `json:"cause_override,omitempty"`
	OverrideReason string     `json:"override_reason,omitempty"`
	Created        time.Time  `json:"created"`
	Updated        time.Time  `json:"updated"`
}

// ErrDuplicateIncident is returned when the outage already has a record.
var ErrDuplicateIncident = errors.New("the outage already has an incident record")

// ErrNoIncident is returned for an unknown record id.
var ErrNoIncident = errors.New("no incident record with that id")

// Validate checks a record; errors name the field (as the API's JSON
// and the CLI's flags spell it).
func (in *Incident) Validate() error {
	switch in.Scope {
	case IncidentLink, IncidentSite, IncidentService:
	case "":
		return fmt.Errorf("scope is required: link, site or service")
	default:
		return fmt.Errorf("scope %q: want link, site or service", clipShort(in.Scope))
	}
	if strings.TrimSpace(in.Target) == "" {
		return fmt.Errorf("target is required (the %s id from the inventory)", in.Scope)
	}
	if in.Start.IsZero() {
		return fmt.Errorf("start is required (the outage's first minute)")
	}
	if y := in.Start.UTC().Year(); y < sla.MinYear || y > sla.MaxYear {
		return fmt.Errorf("start %s: give a time in the years %d to %d", in.Start.UTC().Format(time.RFC3339), sla.MinYear, sla.MaxYear)
	}
	if in.End != nil {
		if y := in.End.UTC().Year(); y < sla.MinYear || y > sla.MaxYear {
			return fmt.Errorf("end %s: give a time in the years %d to %d", in.End.UTC().Format(time.RFC3339), sla.MinYear, sla.MaxYear)
		}
	}
	if in.Start.Truncate(time.Minute) != in.Start {
		return fmt.Errorf("start %s: give a whole minute (the outage's first minute)", in.Start.Format(time.RFC3339Nano))
	}
	if in.End != nil && !in.End.After(in.Start) {
		return fmt.Errorf("end %s is not after start %s", in.End.Format(time.RFC3339), in.Start.Format(time.RFC3339))
	}
	if in.End != nil && in.End.Truncate(time.Minute) != *in.End {
		return fmt.Errorf("end %s: give a whole minute", in.End.Format(time.RFC3339Nano))
	}
	if in.Category == "" {
		return fmt.Errorf("category is required: one of %s", labelIDs(IncidentCategories))
	}
	if LabelOf(IncidentCategories, in.Category) == nil {
		return fmt.Errorf("category %q: want one of %s", clipShort(in.Category), labelIDs(IncidentCategories))
	}
	if in.Source == "" {
		return fmt.Errorf("source is required: one of %s", labelIDs(IncidentSources))
	}
	if LabelOf(IncidentSources, in.Source) == nil {
		return fmt.Errorf("source %q: want one of %s", clipShort(in.Source), labelIDs(IncidentSources))
	}
	if strings.TrimSpace(in.Officer) == "" {
		return fmt.Errorf("officer is required (who handled the incident)")
	}
	if err := in.checkLengths(); err != nil {
		return err
	}
	if in.CauseOverride != "" {
		causes := slices.Concat(sla.Causes, sla.ServiceCauses[:2])
		if !slices.Contains(causes, in.CauseOverride) {
			return fmt.Errorf("cause_override %q: want one of %s", clipShort(in.CauseOverride), strings.Join(causes, ", "))
		}
		if strings.TrimSpace(in.OverrideReason) == "" {
			return fmt.Errorf("override_reason is required with cause_override (why the computed cause is wrong)")
		}
	} else if in.OverrideReason != "" {
		return fmt.Errorf("override_reason given without cause_override")
	}
	return nil
}

// The longest text a record's fields may hold, in bytes: a ticket number
// or officer's name is one line; impact, action and the override's reason
// a paragraph. They keep a record (and the report tables and CSV that
// print it) bounded; the API's 1 MiB body limit alone would not.
const (
	MaxIncidentLine = 200
	MaxIncidentText = 4000
)

func (in *Incident) checkLengths() error {
	for _, f := range []struct {
		name, v string
		max     int
		line    bool
	}{{"target", in.Target, MaxIncidentLine, true}, {"ticket", in.Ticket, MaxIncidentLine, true}, {"officer", in.Officer, MaxIncidentLine, true},
		{"impact", in.Impact, MaxIncidentText, false}, {"action", in.Action, MaxIncidentText, false},
		{"override_reason", in.OverrideReason, MaxIncidentText, false}} {
		if len(f.v) > f.max {
			return fmt.Errorf("%s is %d bytes: at most %d", f.name, len(f.v), f.max)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s %q: not valid UTF-8", f.name, clipShort(f.v))
		}
		if f.line && strings.ContainsFunc(f.v, unicode.IsControl) {
			return fmt.Errorf("%s %q: one line without control characters", f.name, clipShort(f.v))
		}
	}
	return nil
}

func clipShort(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// AddIncident stores a record; the outage it names may have only one.
func (s *DB) AddIncident(ctx context.Context, in Incident, now time.Time) (int64, error) {
	if err := in.Validate(); err != nil {
		return 0, err
	}
	var end any
	if in.End != nil {
		end = in.End.Unix() / 60
	}
	// One statement: two clients recording the same outage at once get
	// one record and one ErrDuplicateIncident (a check before the insert
	// let both pass it and the second hit the unique index).
	res, err := s.sql.ExecContext(ctx, `INSERT INTO incidents (scope, target, start_minute, end_minute, ticket, category, impact, action,
		officer, source, cause_override, override_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, target, start_minute) DO NOTHING`,
		in.Scope, in.Target, in.Start.Unix()/60, end, in.Ticket, in.Category, in.Impact, in.Action,
		in.Officer, in.Source, in.CauseOverride, in.OverrideReason, now.Unix(), now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store incident record in %s: %w", s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("store incident record in %s: %w", s.path, err)
	} else if n == 0 {
		var dup int64
		if err := s.sql.QueryRowContext(ctx, `SELECT id FROM incidents WHERE scope = ? AND target = ? AND start_minute = ?`,
			in.Scope, in.Target, in.Start.Unix()/60).Scan(&dup); err != nil {
			return 0, fmt.Errorf("read incident records from %s: %w", s.path, err)
		}
		return 0, fmt.Errorf("%s %s starting %s already has incident record %d: update that one (%w)",
			in.Scope, in.Target, in.Start.UTC().Format("2006-01-02 15:04 UTC"), dup, ErrDuplicateIncident)
	}
	return res.LastInsertId()
}

// IncidentPatch is a change to a record: the fields given (non-nil)
// replace the record's. Clearing CauseOverride (an empty string) clears
// its reason too.
type IncidentPatch struct {
	Ticket         *string `json:"ticket"`
	Category       *string `json:"category"`
	Impact         *string `json:"impact"`
	Action         *string `json:"action"`
	Officer        *string `json:"officer"`
	Source         *string `json:"source"`
	CauseOverride  *string `json:"cause_override"`
	OverrideReason *string `json:"override_reason"`
}

// Empty reports whether p changes nothing.
func (p *IncidentPatch) Empty() bool {
	return *p == IncidentPatch{}
}

// Apply returns in with p's fields.
func (p *IncidentPatch) Apply(in Incident) Incident {
	for _, f := range []struct {
		from *string
		to   *string
	}{{p.Ticket, &in.Ticket}, {p.Category, &in.Category}, {p.Impact, &in.Impact}, {p.Action, &in.Action},
		{p.Officer, &in.Officer}, {p.Source, &in.Source}, {p.CauseOverride, &in.CauseOverride}, {p.OverrideReason, &in.OverrideReason}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if p.CauseOverride != nil && *p.CauseOverride == "" && p.OverrideReason == nil {
		in.OverrideReason = ""
	}
	return in
}

// UpdateIncident changes a record; it returns the record before and
// after.
func (s *DB) UpdateIncident(ctx context.Context, id int64, p IncidentPatch, now time.Time) (before, after Incident, err error) {
	if p.Empty() {
		return before, after, fmt.Errorf("nothing to change: give at least one of ticket, category, impact, action, officer, source, cause_override, override_reason")
	}
	if before, err = s.IncidentByID(ctx, id); err != nil {
		return before, after, err
	}
	after = p.Apply(before)
	if err := after.Validate(); err != nil {
		return before, after, err
	}
	after.Updated = now.UTC().Truncate(time.Second)
	if _, err := s.sql.ExecContext(ctx, `UPDATE incidents SET ticket = ?, category = ?, impact = ?, action = ?, officer = ?, source = ?,
		cause_override = ?, override_reason = ?, updated_at = ? WHERE id = ?`,
		after.Ticket, after.Category, after.Impact, after.Action, after.Officer, after.Source,
		after.CauseOverride, after.OverrideReason, now.Unix(), id); err != nil {
		return before, after, fmt.Errorf("store incident record %d in %s: %w", id, s.path, err)
	}
	return before, after, nil
}

const incidentCols = `id, scope, target, start_minute, end_minute, ticket, category, impact, action, officer, source,
	cause_override, override_reason, created_at, updated_at`

func scanIncident(sc interface{ Scan(...any) error }) (Incident, error) {
	var (
		in               Incident
		start            int64
		end              sql.NullInt64
		created, updated int64
	)
	err := sc.Scan(&in.ID, &in.Scope, &in.Target, &start, &end, &in.Ticket, &in.Category, &in.Impact, &in.Action,
		&in.Officer, &in.Source, &in.CauseOverride, &in.OverrideReason, &created, &updated)
	in.Start = time.Unix(start*60, 0).UTC()
	if end.Valid {
		e := time.Unix(end.Int64*60, 0).UTC()
		in.End = &e
	}
	in.Detected = !end.Valid
	in.Created, in.Updated = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	return in, err
}

// IncidentByID returns one record (ErrNoIncident when there is none).
func (s *DB) IncidentByID(ctx context.Context, id int64) (Incident, error) {
	in, err := scanIncident(s.sql.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return in, fmt.Errorf("incident record %d: %w", id, ErrNoIncident)
	case err != nil:
		return in, fmt.Errorf("read incident record %d from %s: %w", id, s.path, err)
	}
	return in, nil
}

// Incidents lists the records of outages that started before to and
// (for records with an end) ended after from; records attached to
// detected outages are listed from from minus lookback on (an outage
// that started before a period may still cost it minutes). Zero from and
// to list everything.
func (s *DB) Incidents(ctx context.Context, from, to time.Time, lookback time.Duration) ([]Incident, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !from.IsZero() {
		lo = from.Unix() / 60
	}
	if !to.IsZero() {
		hi = (to.Unix() + 59) / 60
	}
	back := lo - int64(lookback/time.Minute)
	rows, err := s.sql.QueryContext(ctx, `SELECT `+incidentCols+` FROM incidents
		WHERE start_minute < ? AND (end_minute > ? OR end_minute IS NULL AND start_minute >= ?)
		ORDER BY start_minute, id`, hi, lo, back)
	if err != nil {
		return nil, fmt.Errorf("read incident records from %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("read incident records from %s: %w", s.path, err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}
