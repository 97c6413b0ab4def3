package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// InfluxDB 1.x clients (Telegraf's outputs.influxdb among them) send
// "CREATE DATABASE" to /query when they start, and some "SHOW
// DATABASES". The collector has no databases (the db parameter of a write
// is ignored), so, as VictoriaMetrics does, it answers both with success
// in InfluxDB 1.x's JSON shape; any other statement is a 400 that names
// it. Data is read with PromQL (/api/v1/query).

// Limits of a /query request: the q parameter and the statements in it.
// They are fixed, not configured: /query only answers the statements
// clients send at start, a few bytes each; what goes over them is counted
// as unsupported.
const (
	MaxQueryBytes      = 64 << 10
	MaxQueryStatements = 64
	// QueryDatabase is the name SHOW DATABASES lists.
	QueryDatabase = "pantau"
)

// statement kinds, also the statement label of the query metric.
const (
	stmtCreateDatabase = "create_database"
	stmtShowDatabases  = "show_databases"
	stmtUnsupported    = "unsupported"
)

// QueryError is a /query statement the collector does not answer, or
// cannot parse; Col is the 1-based byte column in q.
type QueryError struct {
	Statement int // 1-based
	Col       int
	Msg       string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("statement %d (col %d): %s", e.Statement, e.Col, e.Msg)
}

// ParseQuery splits q into statements (separated by ';') and returns the
// kind of each: CREATE DATABASE <name> [WITH ...] or SHOW DATABASES,
// keywords in any case, the name bare or double-quoted. Anything else is a
// *QueryError naming the statement and its column.
func ParseQuery(q string) ([]string, error) {
	if len(q) > MaxQueryBytes {
		return nil, &QueryError{Statement: 1, Col: 1, Msg: fmt.Sprintf("query is %d bytes; at most %d are allowed", len(q), MaxQueryBytes)}
	}
	var kinds []string
	p := &qparser{s: q}
	for {
		n := len(kinds) + 1
		p.space()
		if p.eof() {
			break
		}
		if p.peek() == ';' {
			p.i++
			continue
		}
		if len(kinds) == MaxQueryStatements {
			return nil, &QueryError{Statement: n, Col: p.i + 1, Msg: fmt.Sprintf("more than %d statements", MaxQueryStatements)}
		}
		k, err := p.statement(n)
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == 0 {
		return nil, &QueryError{Statement: 1, Col: 1, Msg: "missing query: send q=CREATE DATABASE <name> or q=SHOW DATABASES"}
	}
	return kinds, nil
}

type qparser struct {
	s string
	i int
}

func (p *qparser) eof() bool  { return p.i >= len(p.s) }
func (p *qparser) peek() byte { return p.s[p.i] }

func (p *qparser) space() {
	for !p.eof() && strings.IndexByte(" \t\r\n", p.peek()) >= 0 {
		p.i++
	}
}

// word reads a bare word: letters, digits and '_'.
func (p *qparser) word() string {
	start := p.i
	for !p.eof() {
		c := p.peek()
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

// keyword reads the next word and tells whether it is kw (any case).
func (p *qparser) keyword(kw string) bool {
	p.space()
	start := p.i
	if strings.EqualFold(p.word(), kw) {
		return true
	}
	p.i = start
	return false
}

// ident reads a database name: a bare word or a double-quoted string
// with backslash escapes.
func (p *qparser) ident() (string, bool) {
	p.space()
	if p.eof() {
		return "", false
	}
	if p.peek() != '"' {
		w := p.word()
		return w, w != ""
	}
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '\\' && !p.eof():
			b.WriteByte(p.peek())
			p.i++
		case c == '"':
			return b.String(), b.Len() > 0
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// rest skips to the end of the statement; quoted strings may hold ';'.
func (p *qparser) rest() {
	var quote byte
	for !p.eof() {
		c := p.peek()
		switch {
		case quote != 0 && c == '\\' && p.i+1 < len(p.s):
			p.i++ // the escaped character
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ';':
			return
		}
		p.i++
	}
}

func (p *qparser) statement(n int) (string, error) {
	start := p.i
	unsupported := func() (string, error) {
		p.i = start
		p.rest()
		text := strings.TrimSpace(p.s[start:p.i])
		if len(text) > 80 {
			text = text[:80] + "..."
		}
		return "", &QueryError{Statement: n, Col: start + 1, Msg: fmt.Sprintf("%q is not supported: the collector answers only CREATE DATABASE and SHOW DATABASES on /query "+
			"(InfluxDB 1.x clients send them at start); read data with PromQL at /api/v1/query", text)}
	}
	switch {
	case p.keyword("CREATE"):
		if !p.keyword("DATABASE") {
			return unsupported()
		}
		p.space()
		at := p.i
		if _, ok := p.ident(); !ok {
			return "", &QueryError{Statement: n, Col: at + 1, Msg: "CREATE DATABASE needs a database name"}
		}
		p.space()
		switch {
		case p.eof() || p.peek() == ';':
		case p.keyword("WITH"):
			p.rest() // retention policy options: there are none to set
		default:
			return "", &QueryError{Statement: n, Col: p.i + 1, Msg: "unexpected text after the database name (want ';', WITH or the end)"}
		}
		return stmtCreateDatabase, nil
	case p.keyword("SHOW"):
		if !p.keyword("DATABASES") {
			return unsupported()
		}
		p.space()
		if !p.eof() && p.peek() != ';' {
			return "", &QueryError{Statement: n, Col: p.i + 1, Msg: "unexpected text after SHOW DATABASES"}
		}
		return stmtShowDatabases, nil
	}
	return unsupported()
}

// query serves /query (GET with q in the query string, POST with q in a
// form body or the query string). The gate has authenticated the caller:
// any valid credential, agent tokens included.
func (h *Handler) query(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxQueryBytes+4096)
	if err := r.ParseForm(); err != nil {
		h.m.queries.WithLabelValues(stmtUnsupported).Inc()
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			h.queryError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("query body larger than %d bytes", MaxQueryBytes+4096))
			return
		}
		h.queryError(w, http.StatusBadRequest, fmt.Sprintf("cannot read the form: %v", err))
		return
	}
	kinds, err := ParseQuery(r.Form.Get("q"))
	if err != nil {
		h.m.queries.WithLabelValues(stmtUnsupported).Inc()
		h.queryError(w, http.StatusBadRequest, "error parsing query: "+err.Error())
		return
	}
	type series struct {
		Name    string     `json:"name"`
		Columns []string   `json:"columns"`
		Values  [][]string `json:"values"`
	}
	type result struct {
		StatementID int      `json:"statement_id"`
		Series      []series `json:"series,omitempty"`
	}
	out := struct {
		Results []result `json:"results"`
	}{Results: make([]result, 0, len(kinds))}
	for i, k := range kinds {
		h.m.queries.WithLabelValues(k).Inc()
		res := result{StatementID: i}
		if k == stmtShowDatabases {
			res.Series = []series{{Name: "databases", Columns: []string{"name"}, Values: [][]string{{QueryDatabase}}}}
		}
		out.Results = append(out.Results, res)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Influxdb-Version", "1.8.10")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *Handler) queryError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
