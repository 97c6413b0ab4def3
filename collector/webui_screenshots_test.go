package collector

import (
	"os"
	"testing"
	"time"
)

// TestBrowserScreenshotsLogin writes the login page and the home page of
// an operator to docs/ui/ (masuk.png, beranda.png) for `make
// screenshots`; the pages' own browser tests write theirs. Without
// PANTAU_SCREENSHOTS it is skipped: TestBrowserKeyboardLogin already
// drives these pages.
func TestBrowserScreenshotsLogin(t *testing.T) {
	if testing.Short() || os.Getenv("PANTAU_SCREENSHOTS") == "" {
		t.Skip("writes screenshots for make screenshots (PANTAU_SCREENSHOTS)")
	}
	tc := startCollector(t, nil)
	tc.uiUser("ani", "operator", "kata-sandi-ani-123", "dinkes")
	b := newBrowser(t, tc.base, 2*time.Minute)
	b.open("/ui/masuk")
	b.screenshot("masuk")
	b.login("ani", "kata-sandi-ani-123")
	b.screenshot("beranda")
}
