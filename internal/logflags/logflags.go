// Package logflags gives both binaries the same logging flags,
// --log.level and --log.format=logfmt|json, and builds the *slog.Logger
// that is then passed down explicitly.
package logflags

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Flags holds the parsed values.
type Flags struct {
	Level  string
	Format string
}

// Register adds --log.level and --log.format to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Level, "log.level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.Format, "log.format", "logfmt", "log format: logfmt or json")
}

// Logger builds the logger writing to w.
func (f *Flags) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(f.Level) {
	case "debug":
		lvl = slog.LevelDebug
	case "info", "":
		lvl = slog.LevelInfo
	case "warn", "warning":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, fmt.Errorf("--log.level: must be one of debug, info, warn, error (got %q)", f.Level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch f.Format {
	case "logfmt", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format: must be one of logfmt, json (got %q)", f.Format)
}
