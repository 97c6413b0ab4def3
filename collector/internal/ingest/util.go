package ingest

import (
	"encoding/json"
	"net/http"
)

// writeError writes the InfluxDB 2 error shape; the InfluxDB 1 API also
// gets the "error" key its clients read.
func writeError(w http.ResponseWriter, api string, status int, code, msg string) {
	body := map[string]string{"code": code, "message": msg}
	if api == "v1" {
		body["error"] = msg
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
