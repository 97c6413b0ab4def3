package sla

import (
	"fmt"
	"time"
)

// Maintenance scopes.
const (
	ScopeLink    = "link"
	ScopeSite    = "site"
	ScopeService = "service"
	ScopeAll     = "all"
)

// Repeats of a maintenance window.
const (
	RepeatNone    = ""
	RepeatDaily   = "daily"
	RepeatWeekly  = "weekly"
	RepeatMonthly = "monthly"
)

// Window is a declared maintenance window: one-off, or recurring from its
// first occurrence [Start, End) until Until (zero: no end).
type Window struct {
	ID     int64     `json:"id"`
	Scope  string    `json:"scope"`
	Target string    `json:"target,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Repeat string    `json:"repeat,omitempty"`
	Until  time.Time `json:"until,omitzero"`
	Reason string    `json:"reason"`
}

// Validate checks a window before it is stored.
func (w Window) Validate() error {
	switch w.Scope {
	case ScopeLink, ScopeSite, ScopeService:
		if w.Target == "" {
			return fmt.Errorf("maintenance scope %s needs a target id", w.Scope)
		}
	case ScopeAll:
	default:
		return fmt.Errorf("unknown maintenance scope %q (want link, site, service or all)", w.Scope)
	}
	if !w.End.After(w.Start) {
		return fmt.Errorf("maintenance end %s is not after its start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}
	if w.Reason == "" {
		return fmt.Errorf("maintenance needs a reason")
	}
	switch w.Repeat {
	case RepeatNone:
	case RepeatDaily, RepeatWeekly, RepeatMonthly:
		if w.next(w.Start).Before(w.End) {
			return fmt.Errorf("a %s maintenance window cannot be longer than its repeat interval", w.Repeat)
		}
	default:
		return fmt.Errorf("unknown repeat %q (want daily, weekly or monthly)", w.Repeat)
	}
	return nil
}

// Covers reports whether the window applies to a link of a site.
func (w Window) Covers(link, site string) bool {
	switch w.Scope {
	case ScopeAll:
		return true
	case ScopeSite:
		return w.Target == site
	case ScopeLink:
		return w.Target == link
	}
	return false
}

// CoversService reports whether the window applies to a service hosted
// at a site.
func (w Window) CoversService(service, site string) bool {
	switch w.Scope {
	case ScopeAll:
		return true
	case ScopeSite:
		return w.Target == site
	case ScopeService:
		return w.Target == service
	}
	return false
}

// active tells whether the window is open at t.
func (w Window) active(t time.Time) bool {
	in := false
	w.Occurrences(t, t.Add(time.Nanosecond), func(_, _ time.Time) { in = true })
	return in
}

func (w Window) next(t time.Time) time.Time {
	switch w.Repeat {
	case RepeatDaily:
		return t.AddDate(0, 0, 1)
	case RepeatWeekly:
		return t.AddDate(0, 0, 7)
	default:
		return t.AddDate(0, 1, 0)
	}
}

// Occurrences calls fn with each occurrence that overlaps [from, to).
// Recurrences step in the window's own time zone.
func (w Window) Occurrences(from, to time.Time, fn func(s, e time.Time)) {
	if w.Repeat == RepeatNone {
		if w.Start.Before(to) && w.End.After(from) {
			fn(w.Start, w.End)
		}
		return
	}
	d := w.End.Sub(w.Start)
	for i, s := 0, w.Start; s.Before(to) && i < 100000; i++ {
		if !w.Until.IsZero() && !s.Before(w.Until) {
			return
		}
		if e := s.Add(d); e.After(from) {
			fn(s, e)
		}
		// step from the first occurrence, so that a monthly window on the
		// 31st does not drift to the 28th after February
		switch w.Repeat {
		case RepeatDaily:
			s = w.Start.AddDate(0, 0, i+1)
		case RepeatWeekly:
			s = w.Start.AddDate(0, 0, 7*(i+1))
		default:
			s = w.Start.AddDate(0, i+1, 0)
		}
	}
}

// MaintenanceMask marks the minutes of [from, from+n) that fall in any of
// the windows covering the link. A minute is in maintenance when any part
// of it is.
func MaintenanceMask(ws []Window, link, site string, from UnixMinute, n int) []bool {
	return maintenanceMask(ws, func(w Window) bool { return w.Covers(link, site) }, from, n)
}

// ServiceMaintenanceMask is MaintenanceMask for a service of a site.
func ServiceMaintenanceMask(ws []Window, service, site string, from UnixMinute, n int) []bool {
	return maintenanceMask(ws, func(w Window) bool { return w.CoversService(service, site) }, from, n)
}

func maintenanceMask(ws []Window, covers func(Window) bool, from UnixMinute, n int) []bool {
	var mask []bool
	f := time.Unix(from*60, 0)
	t := time.Unix((from+int64(n))*60, 0)
	for _, w := range ws {
		if !covers(w) {
			continue
		}
		w.Occurrences(f, t, func(s, e time.Time) {
			if mask == nil {
				mask = make([]bool, n)
			}
			a := MinuteOf(s.UnixNano()) - from
			b := MinuteOf(e.UnixNano()-1) - from + 1
			a = max(a, 0)
			b = min(b, int64(n))
			for i := a; i < b; i++ {
				mask[i] = true
			}
		})
	}
	return mask
}
