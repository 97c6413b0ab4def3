package collector

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pantau-noc/pantau/collector/internal/storage"
)

// whileReopening answers the query API with 503 and Retry-After while the
// store closes and opens its TSDB again after a write failure (seconds),
// instead of the query error the closed TSDB would give.
func whileReopening(next http.Handler, store *storage.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v1/") && r.URL.Path != "/api/v1/alerts" && store.Reopening() {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"status":"error","errorType":"unavailable","error":%q}`+"\n",
				"the TSDB is being reopened after a write failure; retry in a few seconds")
			return
		}
		next.ServeHTTP(w, r)
	})
}
