package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"
)

// templateFuncs are the functions of http templates besides text/template's
// own (urlquery, printf, index, ...).
var templateFuncs = template.FuncMap{
	// json encodes a value as JSON: a string becomes a quoted, escaped
	// literal, so {"message": {{json .Text}}} is valid whatever the text.
	"json": func(v any) (string, error) {
		b, err := marshal(v)
		return string(b), err
	},
}

// parseTemplate parses an http template. A label the message does not
// have renders as "".
func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=zero").Funcs(templateFuncs).Parse(text)
}

func render(t *template.Template, m *Message) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, m); err != nil {
		return "", err
	}
	return b.String(), nil
}

type headerTemplate struct {
	name string
	t    *template.Template
}

// templated is the http type: method, URL, headers and body rendered from
// the message.
type templated struct {
	method      string
	contentType string // "" without a body
	form        bool
	url         *template.Template
	body        *template.Template // nil: no body
	headers     []headerTemplate   // sorted by name
}

func newTemplated(c *Config) (builder, error) {
	t := &templated{method: c.Method, form: c.ContentType == contentForm}
	var err error
	if t.url, err = parseTemplate("url", c.URL); err != nil {
		return nil, fmt.Errorf("url does not parse as a template: %w", err)
	}
	if c.Body != "" {
		if t.body, err = parseTemplate("body", c.Body); err != nil {
			return nil, fmt.Errorf("body does not parse as a template: %w", err)
		}
		t.contentType = "application/json"
		if t.form {
			t.contentType = "application/x-www-form-urlencoded"
		}
	}
	for _, k := range sortedKeys(c.Headers) {
		ht, err := parseTemplate("header", c.Headers[k])
		if err != nil {
			return nil, fmt.Errorf("header %s does not parse as a template: %w", k, err)
		}
		t.headers = append(t.headers, headerTemplate{name: k, t: ht})
	}
	return t.build, nil
}

// build renders the request. On error it returns what it rendered so far
// (for its secrets), and the error says what went wrong without quoting a
// rendered value.
func (t *templated) build(m *Message, _ time.Time) (*request, error) {
	raw, err := render(t.url, m)
	if err != nil {
		return nil, fmt.Errorf("the url template failed: %w", err)
	}
	r := &request{method: t.method, site: "the url"}
	r.secrets.addURL(raw)
	if p := urlProblem(raw); p != "" {
		return r, fmt.Errorf("the url template rendered a bad URL: %s", p)
	}
	u, _ := url.Parse(raw)
	var body []byte
	if t.body != nil {
		s, err := render(t.body, m)
		if err != nil {
			return r, fmt.Errorf("the body template failed: %w", err)
		}
		if t.form {
			if _, err := url.ParseQuery(s); err != nil {
				return r, errors.New("the body template produced an invalid form body: escape each value with urlquery, such as message={{urlquery .Text}}")
			}
		} else if !json.Valid([]byte(s)) {
			return r, errors.New("the body template produced invalid JSON: quote each value with json, such as {\"message\": {{json .Text}}}")
		}
		body = []byte(s)
	}
	secrets := r.secrets
	r = newRequest(t.method, raw, site(u), body, t.contentType)
	r.secrets = secrets
	for _, h := range t.headers {
		v, err := render(h.t, m)
		if err != nil {
			return r, fmt.Errorf("the template of header %s failed: %w", h.name, err)
		}
		r.secrets.add(v, 1)
		if badHeaderValue(v) {
			return r, fmt.Errorf("header %s rendered empty or with a line break or control character", h.name)
		}
		r.header.Set(h.name, v)
	}
	r.secrets.sort()
	return r, nil
}
