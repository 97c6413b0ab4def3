package ingest

import (
	"fmt"
	"unicode/utf8"
)

// Names are checked as the TSDB will see them, after schema.MetricName
// and schema.LabelName have replaced every byte outside [a-zA-Z0-9_] with
// '_' (and put '_' before a tag key that starts with a digit): the
// lengths, and the reserved names. A check on the raw bytes would let
// "collector.ingest" become pantau_collector_ingest_* and "._tmp" become
// the label __tmp.

// normByte is b as the series and label names have it.
func normByte(b byte) byte {
	if b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' {
		return b
	}
	return '_'
}

// labelNameLen is len(schema.LabelName(k)).
func labelNameLen(k []byte) int {
	if len(k) == 0 || k[0] >= '0' && k[0] <= '9' {
		return len(k) + 1
	}
	return len(k)
}

// reservedLabel tells whether tag key k becomes a label starting with
// "__" (Prometheus's internal labels, such as __name__).
func reservedLabel(k []byte) bool {
	if len(k) < 2 || k[0] >= '0' && k[0] <= '9' {
		return false // a leading digit gets one '_' only
	}
	return normByte(k[0]) == '_' && normByte(k[1]) == '_'
}

// reservedPrefixes are the measurement names whose series would collide
// with the series the collector stores for itself (selfscrape.go):
// pantau_link_state, pantau_site_info, pantau_collector_*,
// pantau_remote_write_*, ...
var reservedPrefixes = []string{"link", "site", "service", "collector", "remote", "inventory", "device", "alert", "alerts", "notification", "notifications"}

// reservedMeasurement returns the reserved name that measurement m is or
// starts (with "_"), after normalisation; "" when none.
func reservedMeasurement(m []byte) string {
	for _, r := range reservedPrefixes {
		if len(m) < len(r) || len(m) > len(r) && normByte(m[len(r)]) != '_' {
			continue
		}
		match := true
		for i := 0; i < len(r); i++ {
			if normByte(m[i]) != r[i] {
				match = false
				break
			}
		}
		if match {
			return r
		}
	}
	return ""
}

// quoteName quotes a name for an error message, shortened to its first
// 64 bytes: a refused name may be megabytes long.
func quoteName(b []byte) string {
	const keep = 64
	if len(b) <= keep {
		return fmt.Sprintf("%q", b)
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", b[:cut], len(b))
}
