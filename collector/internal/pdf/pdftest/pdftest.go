// Package pdftest opens PDFs in tests with poppler-utils (pdfinfo,
// pdftotext; `make deps` installs them).
package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Need fails t (tests never skip on CI) when poppler-utils is missing.
func Need(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"pdfinfo", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to open the PDF (poppler-utils): %v; run `make deps`", tool, err)
		}
	}
}

// Info runs pdfinfo and returns its fields (Pages, Page size, ...).
func Info(t testing.TB, doc []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for line := range strings.SplitSeq(run(t, doc, "pdfinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// Pages runs pdftotext -layout and returns the text of each page.
func Pages(t testing.TB, doc []byte) []string {
	t.Helper()
	pages := strings.Split(run(t, doc, "pdftotext", "-layout"), "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	return pages
}

func run(t testing.TB, doc []byte, tool string, args ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, f)
	if tool == "pdftotext" {
		args = append(args, "-")
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	return string(out)
}
