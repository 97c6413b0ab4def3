package collector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pantau-noc/pantau/collector/internal/report"
)

// TestProductDataHashIsItsCSV: the data hash on a product's approval
// sheet is, as its hash method says, the SHA-256 of the concatenated
// CSVs the report API returns for each of its tables in order (same
// period, scope and lang).
func TestProductDataHashIsItsCSV(t *testing.T) {
	var logs bytes.Buffer
	h := reportHandler(t, &logs)
	get := func(q string) []byte {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/report?"+q, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%q: %d %s\n%s", q, rec.Code, rec.Body.String(), logs.String())
		}
		return rec.Body.Bytes()
	}
	for _, c := range []struct{ product, q string }{
		{report.ProductAnnual, "period=2026&lang=en"},
		{report.ProductReviewPack, "period=2026-Q4"},
		{report.ProductOPDSheet, "period=2026-10&opd=dinkes"},
	} {
		var js struct {
			Approval struct {
				DataSHA256 string `json:"data_sha256"`
			} `json:"approval"`
		}
		base := c.q + "&product=" + c.product
		if err := json.Unmarshal(get(base+"&format=json"), &js); err != nil {
			t.Fatal(err)
		}
		hs := sha256.New()
		for _, tb := range report.ProductTableNames[c.product] {
			hs.Write(get(base + "&format=csv&table=" + tb))
		}
		if got := hex.EncodeToString(hs.Sum(nil)); js.Approval.DataSHA256 != got {
			t.Errorf("%s: data_sha256 %q, SHA-256 of its CSV tables %s", c.product, js.Approval.DataSHA256, got)
		}
	}
}
