package tgconsole

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseCommand: whatever the text, parsing never panics; a command
// name is lowercase ASCII letters, digits or '_' without '@'; and a
// /silence duration is accepted only when positive and at most 7 days.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"/status", "/status@PantauBot", "/STATUS@PantauBot extra", "/site dinkes", "/ack a1b2c3d4",
		"/silence dinkes 1h30m pemeliharaan <router>", "/silence x 7d1m y", "/silence x 9999999999d y",
		"/", "/@", "/@PantauBot", "/a@b@c", "/var/log", "/ÄBC", "/\xff\xfe", "\t/help\n", "/s 0m", "/s 1d24h",
		"/s 06d23h59m", "/s 000000h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, ok := parseCommand(text)
		if ok {
			if cmd.name == "" || len(cmd.name) > maxCommand {
				t.Fatalf("name %q", cmd.name)
			}
			for _, ch := range []byte(cmd.name) {
				if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
					t.Fatalf("name %q holds %q", cmd.name, ch)
				}
			}
			if strings.Contains(cmd.bot, "@") {
				t.Fatalf("bot %q", cmd.bot)
			}
		}
		words := append(strings.Fields(text), text)
		for _, w := range words {
			if d, ok := parseSilenceDuration(w); ok && (d <= 0 || d > 7*24*time.Hour) {
				t.Fatalf("duration %q accepted as %s", w, d)
			} else if !ok && d != 0 {
				t.Fatalf("duration %q rejected with %s", w, d)
			}
		}
	})
}
