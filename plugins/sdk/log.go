package sdk

import (
	"io"
	"log/slog"
	"os"
)

// Logger returns a logger for a plugin: it writes JSON lines to stderr
// in the form go-plugin forwards, so each record appears in the agent's
// log at its level, with a `plugin` attribute and the record's own
// attributes. Records below level are dropped. Anything else a plugin
// writes to stdout or stderr is logged by the agent as a warning, so
// use this logger (or nothing) in a plugin.
func Logger(level slog.Level) *slog.Logger { return newLogger(stderr, level) }

// stderr is the process's stderr as it was before Serve: go-plugin then
// points os.Stderr at a pipe it forwards as stray output, while the agent
// reads log records from the original.
var stderr = os.Stderr

// timestampLayout is the timestamp go-plugin parses (hclog's JSON form).
const timestampLayout = "2006-01-02T15:04:05.000000Z07:00"

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(timestampLayout))
			case slog.LevelKey:
				l := a.Value.Any().(slog.Level)
				name := "error"
				switch {
				case l < slog.LevelInfo:
					name = "debug"
				case l < slog.LevelWarn:
					name = "info"
				case l < slog.LevelError:
					name = "warn"
				}
				return slog.String("@level", name)
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}
