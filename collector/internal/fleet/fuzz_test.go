package fleet

import (
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"
)

func FuzzParseManifest(f *testing.F) {
	sum := sha256.Sum256([]byte("x"))
	good, _ := json.Marshal(Manifest{Version: "1.2.3", OS: "linux", Arch: "amd64", SHA256: "" + hexOf(sum[:]), Signature: make([]byte, 64), Size: 1, SignedAt: time.Unix(0, 0)})
	f.Add(good)
	f.Add([]byte(`{"version":"../../etc","os":"linux","arch":"amd64"}`))
	f.Add([]byte(`{"version":"1","os":"linux","arch":"amd64","sha256":"zz","signature":"AA==","size":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if ValidRelease(m.Version, m.OS, m.Arch) != nil || len(m.Sum()) != sha256.Size || len(m.Signature) != 64 || m.Size < 0 {
			t.Fatalf("accepted an invalid manifest: %+v", m)
		}
	})
}

func FuzzParseReleasePath(f *testing.F) {
	f.Add("1.2.3", "linux-amd64")
	f.Add("..", "linux-amd64")
	f.Add("1.0", "linux")
	f.Add("v1.0.0+build.1", "linux-arm64-v8")
	f.Fuzz(func(t *testing.T, version, platform string) {
		goos, goarch, err := ParseReleasePath(version, platform)
		if err != nil {
			return
		}
		for _, s := range []string{version, goos, goarch} {
			for _, c := range s {
				if c == '/' || c == '\\' || c == 0 {
					t.Fatalf("accepted %q %q: path separator", version, platform)
				}
			}
		}
		if version == "." || version == ".." || goos+"-"+goarch != platform {
			t.Fatalf("accepted %q %q", version, platform)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"time":"2026-12-07T10:00:00.123456789Z","queue_points":10,"queue_bytes":2048,"queue_oldest_age_seconds":60.5}`))
	f.Add([]byte(`{"queue_points":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStatus(data)
		if err != nil {
			return
		}
		if s.QueuePoints < 0 || s.QueueBytes < 0 || !(s.QueueOldestAgeSeconds >= 0) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
