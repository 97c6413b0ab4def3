// Package e2e holds the end-to-end tests: they start several binaries
// (pantau-agent, pantau-collector, the bundled plugins, snmpd) and run
// agent and collector together, in the link lab's network namespaces
// (internal/lab) or on loopback. They need root and take real time;
// `go test -short` (make test-unit) skips them, make test runs them.
// Tests of one binary live next to its code in agent/ and collector/.
package e2e
