package lab

import "testing"

// ThreeHop builds noc — router — site, with 10.250.1.0/30 and
// 10.250.2.0/30, and returns the namespaces and the router's interfaces
// (towards the NOC and towards the site) and the site's.
func ThreeHop(t testing.TB) (l *Lab, noc, router, site, rNoc, rSite, siteIf string) {
	t.Helper()
	l = New(t)
	noc, router, site = l.Namespace("noc"), l.Namespace("rtr"), l.Namespace("site")
	_, rNoc = l.Link(noc, "10.250.1.1/30", router, "10.250.1.2/30")
	rSite, siteIf = l.Link(router, "10.250.2.1/30", site, "10.250.2.2/30")
	l.Router(router)
	l.Route(noc, "10.250.2.0/30", "10.250.1.2")
	l.Route(site, "10.250.1.0/30", "10.250.2.1")
	return
}

// SkipShort skips t under -short (make test-unit): what it needs (root,
// network namespaces, snmpd, minutes of real time) is for make test.
func SkipShort(t testing.TB, needs string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: this test needs %s; make test runs it", needs)
	}
}
