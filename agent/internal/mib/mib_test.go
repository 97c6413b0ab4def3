package mib

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadTest(t *testing.T, dirs ...string) *Set {
	t.Helper()
	s, err := Load(append([]string{"testdata/mibs"}, dirs...), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadResolve(t *testing.T) {
	s := loadTest(t)
	if len(s.Problems) != 0 {
		t.Fatalf("problems: %v", s.Problems)
	}
	for _, tc := range []struct {
		ref, oid string
		kind     Kind
	}{
		{"PANTAU-TEST-MIB::pantauTestVoltage.0", "1.3.6.1.4.1.99999.1.1.0", KindScalar},
		{"pantauTestVoltage", "1.3.6.1.4.1.99999.1.1", KindScalar},
		{"pantauPeerTable", "1.3.6.1.4.1.99999.1.2", KindTable},
		{"PANTAU-TEST-MIB::pantauPeerSignal", "1.3.6.1.4.1.99999.1.2.1.2", KindColumn},
		{"enterprises", "1.3.6.1.4.1", KindNode},
	} {
		oid, o, err := s.Resolve(tc.ref)
		if err != nil {
			t.Errorf("%s: %v", tc.ref, err)
			continue
		}
		if FormatOID(oid) != tc.oid || o.Kind != tc.kind {
			t.Errorf("%s = %s %v, want %s %v", tc.ref, FormatOID(oid), o.Kind, tc.oid, tc.kind)
		}
	}
	sig := s.Object("PANTAU-TEST-MIB::pantauPeerSignal")
	if sig.Table != "PANTAU-TEST-MIB::pantauPeerTable" || len(sig.Index) != 1 || sig.Index[0] != "PANTAU-TEST-MIB::pantauPeerMac" {
		t.Errorf("pantauPeerSignal: table %q index %v", sig.Table, sig.Index)
	}
	mac := s.Object("PANTAU-TEST-MIB::pantauPeerMac")
	if mac.Syntax != SyntaxOctetString || mac.FixedSize != 6 || mac.TypeName != "MacAddress" {
		t.Errorf("pantauPeerMac: %+v", mac)
	}
	if got := s.NameOf([]uint32{1, 3, 6, 1, 4, 1, 99999, 1, 3, 1, 3, 7}); got != "PANTAU-TEST-MIB::pantauSensorValue.7" {
		t.Errorf("NameOf = %s", got)
	}
	cols := s.Columns(s.Object("PANTAU-TEST-MIB::pantauSensorTable"))
	if len(cols) != 3 || cols[1].Name != "pantauSensorName" {
		t.Errorf("columns: %v", cols)
	}
	idx, err := s.DecodeIndex(sig, []uint32{0, 12, 66, 170, 187, 204})
	if err != nil || len(idx) != 1 || idx[0].Text != "00:0c:42:aa:bb:cc" {
		t.Errorf("DecodeIndex = %+v, %v", idx, err)
	}
	for _, ref := range []string{"nosuchObject", "NO-SUCH-MIB::x", "PANTAU-TEST-MIB::nope"} {
		if _, _, err := s.Resolve(ref); !errors.Is(err, ErrUnknown) {
			t.Errorf("%s: err %v, want ErrUnknown", ref, err)
		}
	}
}

// TestLoadBadFiles: a file that does not parse, one whose import is
// missing and one too big are named in Problems; the rest loads.
func TestLoadBadFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "HUGE-MIB.txt")
	if err := os.WriteFile(big, []byte("HUGE-MIB DEFINITIONS ::= BEGIN\n"+strings.Repeat("-- x\n", MaxFileBytes/5+1)+"END\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := loadTest(t, "testdata/bad", dir)
	var msgs []string
	for _, p := range s.Problems {
		msgs = append(msgs, p.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"BROKEN-MIB.txt", "ORPHAN-MIB imports MISSING-SMI", "HUGE-MIB.txt: "} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if _, _, err := s.Resolve("pantauTestVoltage"); err != nil {
		t.Error(err)
	}
}

func TestLoadMissingDir(t *testing.T) {
	if _, err := Load([]string{"testdata/nonexistent"}, false, nil); err == nil {
		t.Error("missing dir: no error")
	}
	if _, err := Load([]string{"testdata/nonexistent"}, true, nil); err != nil {
		t.Errorf("missing dir skipped: %v", err)
	}
}

// TestDebianUCD loads Debian's own UCD-SNMP-MIB (libsnmp-base) on top of
// the test's base MIBs.
func TestDebianUCD(t *testing.T) {
	if _, err := os.Stat("/usr/share/snmp/mibs/UCD-SNMP-MIB.txt"); err != nil {
		t.Skip("libsnmp-base not installed")
	}
	s := loadTest(t, "/usr/share/snmp/mibs")
	oid, o, err := s.Resolve("UCD-SNMP-MIB::laLoadInt")
	if err != nil {
		t.Fatal(err)
	}
	if FormatOID(oid) != "1.3.6.1.4.1.2021.10.1.5" || o.Kind != KindColumn || o.Table != "UCD-SNMP-MIB::laTable" {
		t.Errorf("laLoadInt: %s %+v", FormatOID(oid), o)
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"IF-MIB::ifName", "ifName.3", ".1.3.6.1.2.1.1.3.0", "1.3", "A::b.1.2", "::", "x..1", "IF-MIB::", "a.", "01.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			return
		}
		if n.Numeric == nil && n.Object == "" {
			t.Fatalf("%q: no object and no OID", s)
		}
		if len(n.Numeric) > MaxOIDLen || len(n.Suffix) > MaxOIDLen {
			t.Fatalf("%q: OID too long", s)
		}
	})
}

func FuzzParseModule(f *testing.F) {
	data, _ := os.ReadFile("testdata/mibs/PANTAU-TEST-MIB.txt")
	f.Add(data)
	f.Add([]byte("X DEFINITIONS ::= BEGIN END"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseModule(b) // must not panic
	})
}
