package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// FuzzParseEnrollRequest: any body is a well-formed request or an error
// that never quotes the code's secret; never a panic.
func FuzzParseEnrollRequest(f *testing.F) {
	sec := strings.Repeat("q", 32)
	for _, s := range []string{
		`{"code":"PNT1-abcdabcdabcdabcd-` + sec + `","agent":"a1","hostname":"box","version":"1.0.0"}`,
		`{"code":"pnt1-ABCDABCD-` + strings.ToUpper(sec) + `-` + strings.Repeat("a", 52) + `"}`,
		`{"code":"PNT1-x-y"}`, `{}`, ``, `{"code":1}`, `{"code":"PNT1-abcdabcd-` + sec + `","agent":"../x"}`,
		`{"code":"PNT1-abcdabcd-` + sec + `","hostname":"a\u0000b"}`, `{"code":"x"} x`, `{"code":"x","extra":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, c, err := ParseEnrollRequest(body)
		if err != nil {
			if c.Secret != "" && len(c.Secret) >= 16 && strings.Contains(err.Error(), c.Secret) {
				t.Fatalf("error quotes the secret: %v", err)
			}
			return
		}
		if c.ID == "" || len(c.Secret) < 16 || (q.Agent != "" && !statedb.ValidID(q.Agent)) || len(q.Hostname) > maxEnrollText || len(q.Version) > maxEnrollText {
			t.Fatalf("accepted %q as %+v %+v", body, q, c)
		}
	})
}

// FuzzValidateOverride: any text is a valid override or an error; a
// valid one parses as a mapping of only the allowed keys.
func FuzzValidateOverride(f *testing.F) {
	for _, s := range []string{
		"icmp:\n  - {name: gw, host: 10.0.0.1}\n", "agent: {site: s}\ndefaults: {interval: 30s}\n", "collectors: []\n",
		"a: &x [1]\nb: *x\n", "- 1\n", "", "icmp: {}\n", "snmp:\n  - name: r\n  - name: r\n", "---\na: 1\n---\nb: 2\n", "{", "agent: {id: x}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := ValidateOverride(b); err != nil {
			return
		}
		for _, k := range []string{"collectors:", "queue:"} {
			if strings.HasPrefix(string(b), k) {
				t.Fatalf("accepted %q", b)
			}
		}
	})
}

// FuzzEnrolmentRequest: any create request is a spec within bounds or
// an error.
func FuzzEnrolmentRequest(f *testing.F) {
	for _, s := range [][3]string{{"dinkes", "", ""}, {"dinkes", "a1", "7d"}, {"x y", "", ""}, {"s", "", "31d"}, {"s", "", "-1h"}, {"s", "", "1s"}, {"s", "", "720h"}, {"s", "", "9999999999d"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, site, agent, valid string) {
		sp, err := EnrolmentRequest{Site: site, Agent: agent, Valid: valid}.Spec(nil)
		if err != nil {
			return
		}
		if sp.Valid < time.Minute || sp.Valid > 30*24*time.Hour || !statedb.ValidID(sp.Site) {
			t.Fatalf("accepted %q %q %q as %+v", site, agent, valid, sp)
		}
		if err := sp.Check(); err != nil {
			t.Fatalf("spec %+v fails its own check: %v", sp, err)
		}
	})
}
