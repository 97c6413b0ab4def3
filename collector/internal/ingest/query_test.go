package ingest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestQueryDatabaseStatements: /query answers the statements InfluxDB
// 1.x clients send at start with success in InfluxDB's JSON shape (q in
// the query string or a form body, keywords in any case), and any other
// statement with 400 naming it.
func TestQueryDatabaseStatements(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name, method, q string
		form            bool
		status          int
		body            string
	}{
		{"telegraf's create, form body", "POST", `CREATE DATABASE "telegraf"`, true, 200, `{"results":[{"statement_id":0}]}`},
		{"create, query string, lower case", "POST", `create database telegraf`, false, 200, `{"results":[{"statement_id":0}]}`},
		{"create with retention options", "GET", `CREATE DATABASE "db" WITH DURATION 1d`, false, 200, `{"results":[{"statement_id":0}]}`},
		{"show databases", "GET", `SHOW DATABASES`, false, 200, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["pantau"]]}]}]}`},
		{"two statements", "POST", `CREATE DATABASE "a;b"; show databases;`, true, 200,
			`{"results":[{"statement_id":0},{"statement_id":1,"series":[{"name":"databases","columns":["name"],"values":[["pantau"]]}]}]}`},
		{"select", "GET", `SELECT * FROM cpu`, false, 400, `{"error":"error parsing query: statement 1 (col 1): \"SELECT * FROM cpu\" is not supported: the collector answers only CREATE DATABASE and SHOW DATABASES on /query (InfluxDB 1.x clients send them at start); read data with PromQL at /api/v1/query"}`},
		{"drop after create", "POST", `CREATE DATABASE x; DROP DATABASE x`, true, 400, `{"error":"error parsing query: statement 2 (col 20): \"DROP DATABASE x\" is not supported: the collector answers only CREATE DATABASE and SHOW DATABASES on /query (InfluxDB 1.x clients send them at start); read data with PromQL at /api/v1/query"}`},
		{"create without name", "GET", `CREATE DATABASE`, false, 400, `{"error":"error parsing query: statement 1 (col 16): CREATE DATABASE needs a database name"}`},
		{"missing q", "GET", ``, false, 400, `{"error":"error parsing query: statement 1 (col 1): missing query: send q=CREATE DATABASE \u003cname\u003e or q=SHOW DATABASES"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := e.srv.URL + "/query"
			var body io.Reader
			if c.form {
				body = strings.NewReader(url.Values{"q": {c.q}}.Encode())
			} else if c.q != "" {
				u += "?" + url.Values{"q": {c.q}}.Encode()
			}
			r, _ := http.NewRequest(c.method, u, body)
			if c.form {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status || strings.TrimSpace(string(b)) != c.body {
				t.Fatalf("got %d %s\nwant %d %s", res.StatusCode, b, c.status, c.body)
			}
		})
	}
	if v := counterValue(t, e.h.m.queries.WithLabelValues(stmtCreateDatabase)); v != 4 {
		t.Errorf("create_database statements = %v, want 4", v)
	}
}

// FuzzParseQuery: the statement parser never panics, reports a column
// within the query, and accepts only what it names.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`CREATE DATABASE "telegraf"`, `show databases`, `CREATE DATABASE "a\"b" WITH DURATION 1d; SHOW DATABASES;`,
		`SELECT 1`, `CREATE DATABASE "`, `;;`, `create`, `SHOW DATABASES x`, "CREATE DATABASE x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		kinds, err := ParseQuery(q)
		var qe *QueryError
		switch {
		case err == nil:
			if len(kinds) == 0 || len(kinds) > MaxQueryStatements {
				t.Fatalf("%q: %d statements", q, len(kinds))
			}
			for _, k := range kinds {
				if k != stmtCreateDatabase && k != stmtShowDatabases {
					t.Fatalf("%q: kind %q", q, k)
				}
			}
			up := strings.ToUpper(q)
			if !strings.Contains(up, "DATABASE") {
				t.Fatalf("%q accepted without DATABASE", q)
			}
		case !errors.As(err, &qe):
			t.Fatalf("%q: error %T %v", q, err, err)
		case qe.Col < 1 || qe.Col > len(q)+1 || qe.Statement < 1:
			t.Fatalf("%q: position %d:%d out of range", q, qe.Statement, qe.Col)
		}
	})
}

// TestQueryTooLarge: a /query body over the limit is a 413, counted.
func TestQueryTooLarge(t *testing.T) {
	e := newEnv(t, nil)
	body := "q=" + strings.Repeat("x", MaxQueryBytes+8192)
	res, err := http.Post(e.srv.URL+"/query", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(b), "query body larger than") {
		t.Fatalf("got %d %s", res.StatusCode, b)
	}
	if v := counterValue(t, e.h.m.queries.WithLabelValues(stmtUnsupported)); v != 1 {
		t.Errorf("unsupported = %v, want 1", v)
	}
}
