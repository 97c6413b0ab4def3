package promapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func getStatus(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}

// TestExportSlotsResize: limits.max_concurrent_exports changes while
// running: raised from 1 to 2 while one export is served, the next is
// served; lowered to 1 again, one more gets 503 naming the limit.
func TestExportSlotsResize(t *testing.T) {
	a, entered, release := blockingExportAPI(t)
	srv := serveAPI(t, a)
	firstCode := make(chan int, 1)
	go func() {
		code, _ := getStatus(t, srv.Client(), srv.URL+"/federate?match[]=up")
		firstCode <- code
	}()
	<-entered
	if code, body := getStatus(t, srv.Client(), srv.URL+"/federate?match[]=up"); code != 503 || !strings.Contains(body, "1 federation and remote read requests") {
		t.Fatalf("at 1: %d %s, want 503", code, body)
	}
	l := a.Limits()
	l.MaxConcurrentExports = 2
	a.SetLimits(l)
	if code, body := getStatus(t, srv.Client(), srv.URL+"/federate?match[]=up"); code != 200 {
		t.Fatalf("raised to 2: %d %s, want 200", code, body)
	}
	l.MaxConcurrentExports = 1
	a.SetLimits(l)
	if code, body := getStatus(t, srv.Client(), srv.URL+"/federate?match[]=up"); code != 503 || !strings.Contains(body, "(limits.max_concurrent_exports)") {
		t.Fatalf("lowered to 1: %d %s, want 503", code, body)
	}
	close(release)
	if code := <-firstCode; code != 200 {
		t.Errorf("the first: %d", code)
	}
	if code, body := getStatus(t, srv.Client(), srv.URL+"/federate?match[]=up"); code != 200 {
		t.Errorf("after the first: %d %s", code, body)
	}
}

// TestSetLimitsWhileQuerying: /federate requests and a reloader at once
// (run with -race). One set bounds the selectors (3: 400 for 4), the
// other the series (1: 422); a request that mixed them (neither bound)
// would get 200.
func TestSetLimitsWhileQuerying(t *testing.T) {
	srv, a := newFedServer(t, ReadLimits{})
	sel := a.Limits()
	sel.MaxMatchSelectors, sel.FederateMaxSeries = 3, 0
	ser := sel
	ser.MaxMatchSelectors, ser.FederateMaxSeries = 0, 1
	q := url.Values{"match[]": {"up", `{__name__="up"}`, `up{opd="dinkes"}`, `up{instance="d1"}`}}.Encode()
	// One set is in force before any request: the reloader goroutine may
	// start late on a loaded machine, and the server's own limits bound
	// neither.
	a.SetLimits(sel)
	stop := make(chan struct{})
	var reloads sync.WaitGroup
	reloads.Add(1)
	go func() {
		defer reloads.Done()
		for i := 0; i < 1_000_000; i++ { // bounded
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				a.SetLimits(sel)
			} else {
				a.SetLimits(ser)
			}
		}
	}()
	var wg sync.WaitGroup
	var n400, n422 atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				code, body := getStatus(t, srv.Client(), srv.URL+"/federate?"+q)
				switch {
				case code == 400 && strings.Contains(body, "(limits.max_match_selectors)"):
					n400.Add(1)
				case code == 422 && strings.Contains(body, "(limits.federate_max_series)"):
					n422.Add(1)
				default:
					t.Errorf("got %d %s: neither set's answer", code, body)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	reloads.Wait()
	t.Logf("400: %d, 422: %d", n400.Load(), n422.Load())
}
