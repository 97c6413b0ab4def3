// Package httpapi is the collector's JSON API for the records the CLI
// changes on the host: maintenance windows, silences and
// acknowledgements, reviews and follow-ups with their evidence files, the
// inventory, tokens, users and the audit log (docs/api.md). The auth
// Gate in front of it has checked the caller's credential and role;
// handlers here filter by the caller's OPD scope and write an audit row
// for every change.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiError is the error body: {"status":"error","errorType":...,"error":...}.
func writeError(w http.ResponseWriter, status int, msg string) {
	typ := "bad_data"
	switch status {
	case http.StatusNotFound:
		typ = "not_found"
	case http.StatusForbidden:
		typ = "forbidden"
	case http.StatusConflict:
		typ = "conflict"
	case http.StatusRequestEntityTooLarge:
		typ = "too_large"
	case http.StatusUnsupportedMediaType:
		typ = "unsupported_media_type"
	case http.StatusInternalServerError, http.StatusServiceUnavailable:
		typ = "internal"
	}
	writeJSON(w, status, map[string]string{"status": "error", "errorType": typ, "error": msg})
}

// decodeJSON reads one JSON object of at most maxJSONBody bytes into v,
// refusing unknown fields and trailing data. Its error names the problem
// (and the byte offset of a syntax error), for a 400.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return fmt.Errorf("Content-Type %q: send application/json", ct)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty body: send a JSON object")
		case errors.As(err, &se):
			return fmt.Errorf("JSON syntax error at byte %d: %w", se.Offset, err)
		case errors.As(err, &te):
			return fmt.Errorf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("bad JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	if dec.InputOffset() > maxJSONBody {
		return fmt.Errorf("body larger than %d bytes", maxJSONBody)
	}
	return nil
}

func isJSON(ct string) bool {
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	return ct == "application/json"
}
