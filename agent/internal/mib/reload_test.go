package mib

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReloadIsolated: a second Load sees only its own directories (gosmi
// state does not leak between loads), and a module that parses but does
// not build (an undefined parent) is a problem, not a crash.
func TestReloadIsolated(t *testing.T) {
	s1 := loadTest(t)
	if !slices.Contains(s1.Modules, "PANTAU-TEST-MIB") {
		t.Fatalf("modules %v", s1.Modules)
	}
	dir := t.TempDir()
	weird := "WEIRD-MIB DEFINITIONS ::= BEGIN\nIMPORTS OBJECT-TYPE, Integer32 FROM SNMPv2-SMI;\n" +
		"weirdObj OBJECT-TYPE\n SYNTAX NoSuchType\n MAX-ACCESS read-only\n STATUS current\n DESCRIPTION \"x\"\n ::= { noSuchParent 1 }\nEND\n"
	if err := os.WriteFile(filepath.Join(dir, "WEIRD-MIB.txt"), []byte(weird), 0o644); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	for _, f := range []string{"SNMPv2-SMI.txt"} {
		b, _ := os.ReadFile(filepath.Join("testdata/mibs", f))
		os.WriteFile(filepath.Join(base, f), b, 0o644)
	}
	s2, err := Load([]string{base, dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(s2.Modules, "PANTAU-TEST-MIB") {
		t.Errorf("second load has the first's modules: %v", s2.Modules)
	}
	t.Logf("modules %v problems %v", s2.Modules, s2.Problems)
	if _, _, err := s2.Resolve("weirdObj"); err == nil {
		t.Log("weirdObj resolved despite its undefined parent")
	}
	if _, _, err := s1.Resolve("pantauTestVoltage"); err != nil {
		t.Errorf("the first set changed: %v", err)
	}
}

// TestSMIv1: an SMIv1 module's RFC1155-SMI, RFC-1212 and RFC1213-MIB
// imports resolve through gosmi's mapping to SNMPv2-SMI/TC.
func TestSMIv1(t *testing.T) {
	s := loadTest(t, "testdata/smiv1")
	if len(s.Problems) > 0 {
		t.Fatalf("problems: %v", s.Problems)
	}
	oid, o, err := s.Resolve("OLD-STYLE-MIB::oldTemp")
	if err != nil || FormatOID(oid) != "1.3.6.1.4.1.99998.1" || o.Kind != KindScalar || o.Syntax != SyntaxUnsigned {
		t.Fatalf("oldTemp: %v %+v %v", oid, o, err)
	}
}
