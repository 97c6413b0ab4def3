// Package buildinfo holds the version stamped into both binaries at link
// time (-ldflags "-X .../buildinfo.Version=...").
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time by the Makefile.
var (
	Version   = "dev"
	Revision  = ""
	BuildDate = ""
)

// Rev returns the VCS revision, from the linker flag or the embedded build info.
func Rev() string {
	if Revision != "" {
		return Revision
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// GoVersion is the toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }

// String is the one-line version banner printed by --version.
func String(program string) string {
	return fmt.Sprintf("%s %s (revision %s, built %s, %s %s/%s)", program, Version, Rev(), BuildDate, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
