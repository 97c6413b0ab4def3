package notify

import (
	"fmt"
	"os"
	"time"
)

// Languages of the test message.
const (
	LangID = "id" // Bahasa Indonesia, the default
	LangEN = "en"
)

// ValidLang reports whether lang is a language of TestMessage.
func ValidLang(lang string) bool { return lang == LangID || lang == LangEN }

// TestMessage is the notification `pantau-collector notify test` and
// POST /api/v1/notifiers/{name}/test send: in Bahasa Indonesia, or in
// English for lang "en". Its id is unique to now (nanoseconds).
func TestMessage(lang string, now time.Time) *Message {
	host, _ := os.Hostname()
	m := &Message{
		ID:       fmt.Sprintf("test-%d", now.UnixNano()),
		Status:   "firing",
		Severity: "info",
		Labels:   map[string]string{"alertname": "PantauTest", "severity": "info"},
		StartsAt: now.UTC().Truncate(time.Second),
	}
	if lang == LangEN {
		m.Title = "Pantau test notification"
		m.Text = fmt.Sprintf("A test message from pantau-collector on %s. If you can read it, this notifier is ready for alerts.", host)
	} else {
		m.Title = "Uji notifikasi Pantau"
		m.Text = fmt.Sprintf("Pesan uji dari pantau-collector di %s. Jika pesan ini terbaca, notifier ini siap menerima peringatan.", host)
	}
	return m
}

// Redact replaces every secret of the notifier (its bot token, secret,
// header values and the parts of its URL that may be one) in s, for text
// from elsewhere that is about to be shown, such as an outbox entry's
// last error. Errors of this package are free of secrets already.
func (c *Config) Redact(s string) string { return c.secrets().clean(s) }
