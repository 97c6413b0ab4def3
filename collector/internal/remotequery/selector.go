package remotequery

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// anyName is added to a selector whose matchers all match the empty
// string: PromQL rejects such a selector ("vector selector must contain
// at least one non-empty matcher") while the storage contract is "every
// series". Every series the engines store has a name.
var anyName = labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, ".+")

// errNoMatch says the matchers select no series, so no request is needed.
var errNoMatch = errors.New("matchers select no series")

// selector renders matchers as a PromQL vector selector,
// {__name__="m",a=~"re",...}. Label values use Go quoting (as
// labels.Matcher.String does), which PromQL
// and MetricsQL unquote with the same rules (strconv.Unquote); a label
// name that is not a legacy Prometheus name is quoted too, which only
// UTF-8 aware engines (Prometheus 3) accept.
//
// A matcher on the empty label name is decided here: no series has that
// label, so it either matches every series (and is dropped) or none
// (errNoMatch). When no matcher remains that needs a non-empty value,
// __name__=~".+" is added.
func selector(ms []*labels.Matcher) (string, error) {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	n, needsValue := 0, false
	for _, m := range ms {
		if m == nil {
			continue
		}
		empty, err := matchesEmpty(m)
		if err != nil {
			return "", err
		}
		if m.Name == "" {
			if !empty {
				return "", errNoMatch
			}
			continue
		}
		if !empty {
			needsValue = true
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendMatcher(b, m)
		n++
	}
	if !needsValue {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendMatcher(b, anyName)
	}
	return string(append(b, '}')), nil
}

// appendMatcher renders one matcher as labels.Matcher.String does,
// except that a regexp with a dot is sent as (?s:<regexp>): "." matches
// a newline in this module's matchers (Prometheus 3) and in
// VictoriaMetrics, but not in Prometheus 2.
func appendMatcher(b []byte, m *labels.Matcher) []byte {
	if legacyName(m.Name) {
		b = append(b, m.Name...)
	} else {
		b = strconv.AppendQuote(b, m.Name)
	}
	b = append(b, m.Type.String()...)
	return strconv.AppendQuote(b, sentValue(m))
}

// sentValue is the value of m as the engine gets it.
func sentValue(m *labels.Matcher) string {
	if (m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp) && strings.Contains(m.Value, ".") {
		return "(?s:" + m.Value + ")"
	}
	return m.Value
}

// legacyName reports whether a label name needs no quotes:
// [a-zA-Z_][a-zA-Z0-9_]*.
func legacyName(s string) bool {
	for i, c := range s {
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return s != ""
}

// matchesEmpty reports whether m matches a missing label. The regexp is
// compiled here, so matchers built as struct literals work too.
func matchesEmpty(m *labels.Matcher) (bool, error) {
	switch m.Type {
	case labels.MatchEqual:
		return m.Value == "", nil
	case labels.MatchNotEqual:
		return m.Value != "", nil
	case labels.MatchRegexp, labels.MatchNotRegexp:
		re, err := labels.NewFastRegexMatcher(m.Value)
		if err != nil {
			return false, fmt.Errorf("matcher %s: %w", m, err)
		}
		return re.MatchString("") == (m.Type == labels.MatchRegexp), nil
	}
	return false, fmt.Errorf("matcher on %q: unknown match type %d", m.Name, int(m.Type))
}
