package e2e

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the tests of this package all at once unless -parallel is
// given: they wait on probe rounds, outages and minute boundaries and use
// little CPU, so the default (GOMAXPROCS, 2 on a small CI machine) would
// only queue them behind each other. Each test's lab has its own
// namespaces (internal/lab), and the plugin test listens on ports the
// kernel picks.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", "8"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
