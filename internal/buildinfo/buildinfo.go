// Package buildinfo holds the version stamped into both binaries at link
// time (-ldflags "-X .../buildinfo.Version=...").
package buildinfo

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
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

// describe is `git describe --tags --always --dirty` output of a tag
// vX.Y.Z[-pre]: the tag, then -N-gHASH commits after it, then -dirty.
var describe = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.]+?)??(?:-(\d+)-g([0-9a-f]+))?(-dirty)?$`)

// SemVer is Version as a semantic version (semver.org), as Grafana
// reads the version of a Prometheus API (/api/v1/status/buildinfo):
//
//	v0.19.0                  -> 0.19.0
//	v0.19.0-rc1              -> 0.19.0-rc1
//	v0.19.0-4-gabc1234       -> 0.19.0+git4.gabc1234 (after 0.19.0, like the package version)
//	v0.19.0-4-gabc1234-dirty -> 0.19.0+git4.gabc1234.dirty
//	abc1234, dev             -> 0.0.0-dev+abc1234 (no tag: the revision)
func SemVer() string { return semVer(Version, Rev()) }

func semVer(v, rev string) string {
	if m := describe.FindStringSubmatch(v); m != nil {
		out := m[1] + "." + m[2] + "." + m[3] + m[4]
		var build []string
		if m[5] != "" {
			build = append(build, "git"+m[5], "g"+m[6])
		}
		if m[7] != "" {
			build = append(build, "dirty")
		}
		if len(build) > 0 {
			out += "+" + strings.Join(build, ".")
		}
		return out
	}
	var build []string
	for _, id := range strings.FieldsFunc(strings.TrimSuffix(v, "-dirty"), func(r rune) bool { return r == '-' || r == '.' }) {
		if id != "dev" && identifier.MatchString(id) {
			build = append(build, id)
		}
	}
	if len(build) == 0 && identifier.MatchString(rev) {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		build = append(build, rev)
	}
	if strings.HasSuffix(v, "-dirty") {
		build = append(build, "dirty")
	}
	if len(build) == 0 {
		return "0.0.0-dev"
	}
	return "0.0.0-dev+" + strings.Join(build, ".")
}

var identifier = regexp.MustCompile(`^[0-9A-Za-z-]+$`)
