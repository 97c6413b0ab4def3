package sla

import (
	"slices"
	"sync"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/calendar"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// HoursFigures are the availability over service hours (jam layanan):
// the same states as Figures, counted only in the minutes inside the
// schedule of the link, site or service, in its site's zone, and not on
// the holiday calendar's days when the schedule excludes holidays.
type HoursFigures struct {
	// ServiceHoursAvailability = (up + degraded) / (up + degraded +
	// down) seconds inside service hours, percent; nil when the link,
	// site or service has no service hours, or no data inside them.
	ServiceHoursAvailability *float64 `json:"service_hours_availability_pct"`
	// ServiceHours is the schedule, such as "kantor: mon-fri
	// 07:30-16:00, excl. holidays"; empty: none.
	ServiceHours string `json:"service_hours,omitempty"`
	// ServiceHoursSeconds are the period's seconds inside service
	// hours; of them, Available and Known (up + degraded + down).
	ServiceHoursSeconds          int64 `json:"service_hours_seconds,omitempty"`
	ServiceHoursAvailableSeconds int64 `json:"service_hours_available_seconds,omitempty"`
	ServiceHoursKnownSeconds     int64 `json:"service_hours_known_seconds,omitempty"`
}

// hoursKey identifies a mask: one schedule in one site's extent.
type hoursKey struct {
	sched *inventory.Schedule
	zone  string
	from  UnixMinute
	n     int
}

// holidays is the engine's calendar (default: the built-in years).
func (e *Engine) holidays() *calendar.Calendar {
	if e.Holidays != nil {
		return e.Holidays
	}
	return builtinCalendar()
}

var builtinCalendar = sync.OnceValue(calendar.Builtin)

// hoursMask returns, for each minute of the site's extent, whether it is
// inside schedule h (nil: no schedule). Masks are shared between the
// links and services of a schedule and zone. Years the schedule needs
// holidays for and the calendar lacks are recorded (MissingHolidayYears).
func (c *Computation) hoursMask(h *inventory.Schedule, site *inventory.Site, sp extent) []bool {
	if h == nil {
		return nil
	}
	k := hoursKey{h, site.Location.String(), sp.from, sp.n}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.masks[k]; ok {
		return m
	}
	cal := c.e.holidays()
	loc := site.Location
	mask := make([]bool, sp.n)
	end := sp.from + UnixMinute(sp.n)
	t0 := time.Unix(sp.from*60, 0).In(loc)
	for d := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, loc); ; d = d.AddDate(0, 0, 1) {
		day := MinuteOf(d.UnixNano())
		if day >= end {
			break
		}
		a, b := day, day+MinutesPerDay
		if !h.Always {
			if !h.Days[d.Weekday()] {
				continue
			}
			if h.ExcludeHolidays {
				y, m, dd := d.Date()
				if !cal.Has(y) && !d.Before(sp.wide.Start) && d.Before(sp.wide.End) {
					c.missingYears[y] = true
				}
				if cal.IsHoliday(y, m, dd) {
					continue
				}
			}
			a, b = day+UnixMinute(h.From), day+UnixMinute(h.To)
		}
		for i := max(a, sp.from); i < min(b, end); i++ {
			mask[i-sp.from] = true
		}
	}
	c.masks[k] = mask
	return mask
}

// MissingHolidayYears are the years a schedule that excludes holidays
// needed and the holiday calendar does not list: their holidays counted
// as service hours.
func (c *Computation) MissingHolidayYears() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int, 0, len(c.missingYears))
	for y := range c.missingYears {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// hoursFigures counts the period's effective states inside the mask.
func hoursFigures(h *inventory.Schedule, mask []bool, eff []Slots, sp extent) HoursFigures {
	if h == nil {
		return HoursFigures{}
	}
	var cnt Counts
	n := 0
	for i := sp.lo; i < sp.hi; i++ {
		if mask[i] {
			eff[i].addSeconds(&cnt)
			n++
		}
	}
	f := HoursFigures{ServiceHours: h.String(), ServiceHoursSeconds: int64(n) * 60}
	f.ServiceHoursAvailableSeconds = cnt[Up] + cnt[Degraded]
	f.ServiceHoursKnownSeconds = f.ServiceHoursAvailableSeconds + cnt[Down]
	f.ServiceHoursAvailability = Pct(f.ServiceHoursAvailableSeconds, f.ServiceHoursKnownSeconds)
	return f
}
