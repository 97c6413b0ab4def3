package buildinfo

import (
	"regexp"
	"testing"
)

// semverRE is semver.org's suggested regular expression.
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// TestSemVer: what the Makefile stamps (git describe) becomes a
// semantic version; a build without a tag is 0.0.0-dev+<revision>.
func TestSemVer(t *testing.T) {
	for _, c := range []struct{ v, rev, want string }{
		{"v0.19.0", "abc1234", "0.19.0"},
		{"0.19.0", "", "0.19.0"},
		{"v0.19.0-rc1", "abc1234", "0.19.0-rc1"},
		{"v0.19.0-rc.1-3-gdeadbee", "deadbee", "0.19.0-rc.1+git3.gdeadbee"},
		{"v0.19.0-4-gabc1234", "abc1234", "0.19.0+git4.gabc1234"},
		{"v0.19.0-4-gabc1234-dirty", "abc1234", "0.19.0+git4.gabc1234.dirty"},
		{"v0.19.0-dirty", "abc1234", "0.19.0+dirty"},
		{"abc1234", "abc1234", "0.0.0-dev+abc1234"},
		{"abc1234-dirty", "abc1234", "0.0.0-dev+abc1234.dirty"},
		{"dev", "0123456789abcdef0123", "0.0.0-dev+0123456789ab"},
		{"dev", "unknown", "0.0.0-dev+unknown"},
		{"dev", "", "0.0.0-dev"},
		{"", "", "0.0.0-dev"},
		{"a b/c", "", "0.0.0-dev"},
	} {
		got := semVer(c.v, c.rev)
		if got != c.want {
			t.Errorf("semVer(%q, %q) = %q, want %q", c.v, c.rev, got, c.want)
		}
		if !semverRE.MatchString(got) {
			t.Errorf("semVer(%q, %q) = %q is not a semantic version", c.v, c.rev, got)
		}
	}
	if !semverRE.MatchString(SemVer()) {
		t.Errorf("SemVer() = %q", SemVer())
	}
}
