package statedb

import (
	"strings"
	"testing"
)

// FuzzCheckPassword checks arbitrary stored hashes: parsing never
// panics, and a hash it accepts has argon2 parameters within the bounds
// (so one login attempt's memory and time are bounded, and argon2 itself
// cannot panic). Hashes asking for more than 1 MiB are not hashed here,
// to keep the fuzzer fast; their parameters are checked all the same.
func FuzzCheckPassword(f *testing.F) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(h, "correct horse battery staple")
	f.Add(h, "wrong")
	small := strings.Replace(h, "m=19456,t=2,p=1", "m=8,t=1,p=1", 1)
	f.Add(small, "x")
	for _, params := range []string{"m=8,t=0,p=1", "m=8,t=1,p=0", "m=4294967295,t=1,p=1", "m=8,t=4294967295,p=255", "m=-8,t=1,p=1", "m=8,t=1,p=1,x=2"} {
		f.Add(strings.Replace(h, "m=19456,t=2,p=1", params, 1), "x")
	}
	f.Add("", "")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$"+strings.Repeat("A", 200), "")
	f.Add("$argon2i$v=19$m=8,t=1,p=1$c2FsdA$a2V5", "")
	f.Add("$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "x") // bcrypt
	f.Fuzz(func(t *testing.T, hash, password string) {
		p, ok := parsePHC(hash)
		if !ok {
			if checkPassword(hash, password) {
				t.Fatalf("%q: unparsable hash accepted a password", hash)
			}
			return
		}
		if p.m > maxArgonMemory || p.t < 1 || p.t > maxArgonTime || p.p < 1 || p.p > maxArgonThreads ||
			len(p.key) < 1 || len(p.key) > maxArgonKeyLen {
			t.Fatalf("%q: parameters out of bounds accepted: m=%d t=%d p=%d key %d bytes", hash, p.m, p.t, p.p, len(p.key))
		}
		if p.m <= 1024 && p.t <= 4 {
			checkPassword(hash, password)
		}
	})
}
