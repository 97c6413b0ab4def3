package inventory

import (
	"fmt"
	"strings"
	"time"
)

// ParseZone resolves a zone the commands' --zone and the report API's
// zone parameter accept: WIB (also ""), WITA, WIT or any IANA name.
func ParseZone(name string) (*time.Location, error) {
	switch strings.ToUpper(name) {
	case "", "WIB":
		name = "Asia/Jakarta"
	case "WITA":
		name = "Asia/Makassar"
	case "WIT":
		name = "Asia/Jayapura"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want WIB, WITA, WIT or an IANA name)", name)
	}
	return loc, nil
}

// PemdaZone is the zone in which dates given without one are read (report
// periods, sla rebuild --from/--to, maintenance windows of the whole
// network): configured (report.time_zone in collector.yml), else the
// inventory's (defaults.timezone, else the zone all its sites share; inv
// may be nil), else WIB.
func PemdaZone(configured string, inv *Inventory) *time.Location {
	if loc := Location(configured); loc != nil {
		return loc
	}
	if inv != nil {
		return inv.Zone()
	}
	return Location("WIB")
}
