package report

import "time"

// FormatInt writes n with lang's thousands separators ("12.345" in
// Indonesian, "12,345" in English), for pages outside the report (the
// evidence bundle's index) that must read as the report does.
func FormatInt(lang string, n int64) string { return fmtInt(lang, n) }

// FormatPeriod writes a period label as a reader says it ("Triwulan IV
// 2026", "Oktober 2026"; see fmtPeriod).
func FormatPeriod(lang, label string) string { return fmtPeriod(lang, label) }

// FormatStamp writes a moment to the minute with its zone ("7 Desember
// 2026 09:00 WIT").
func FormatStamp(lang string, t time.Time) string { return fmtStamp(lang, t) }
