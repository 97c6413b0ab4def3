package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-noc/pantau/collector/internal/notify"
	"github.com/pantau-noc/pantau/collector/internal/outbox"
	"github.com/pantau-noc/pantau/collector/internal/statedb"
)

// NotifiersOptions configure the notifiers API.
type NotifiersOptions struct {
	DB *statedb.DB
	// Notifiers are the config's notifiers: (their secrets are used only
	// to scrub text shown, never shown).
	Notifiers []notify.Config
	// Enqueue queues a notification: the daemon's outbox. nil when no
	// notifier is configured (a test answers 409).
	Enqueue outbox.EnqueueFunc
	Logger  *slog.Logger
}

// Notifiers serves /api/v1/notifiers: the configured notifiers with what
// the outbox knows of them, and a test message through one of them.
type Notifiers struct {
	o      NotifiersOptions
	byName map[string]*notify.Config
}

// NewNotifiers builds the notifiers API.
func NewNotifiers(o NotifiersOptions) *Notifiers {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifiers{o: o, byName: map[string]*notify.Config{}}
	for i := range o.Notifiers {
		n.byName[o.Notifiers[i].Name] = &o.Notifiers[i]
	}
	return n
}

// Register puts the notifiers API on mux.
func (n *Notifiers) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/notifiers", n.list)
	mux.HandleFunc("POST /api/v1/notifiers/{name}/test", n.test)
	mux.HandleFunc("GET /api/v1/outbox", n.outbox)
}

// NotifierView is a notifier as the API shows it: never its URL, token,
// secret or headers.
type NotifierView struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Pending are queued and not yet delivered; Sent and Failed (refused
	// for good) count the outbox's entries, which it keeps 30 days.
	Pending       int       `json:"pending"`
	Sent          int       `json:"sent"`
	Failed        int       `json:"failed"`
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	LastSent      time.Time `json:"last_sent,omitzero"`
	// LastError is the newest entry with an error, its text scrubbed of
	// the notifier's secrets.
	LastError *NotifierError `json:"last_error,omitempty"`
}

// NotifierError is an outbox entry's error.
type NotifierError struct {
	ID       int64     `json:"id"` // the outbox entry (pantau-collector notify outbox)
	MsgID    string    `json:"msg_id"`
	State    string    `json:"state"` // failed, or pending: being retried
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Error    string    `json:"error"`
}

func (n *Notifiers) list(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	sums, err := n.o.DB.OutboxSummaries(r.Context())
	if err != nil {
		n.internal(w, "read the notification outbox", err)
		return
	}
	out := make([]NotifierView, 0, len(n.o.Notifiers))
	for i := range n.o.Notifiers {
		c := &n.o.Notifiers[i]
		v := NotifierView{Name: c.Name, Type: c.Type}
		if s := sums[c.Name]; s != nil {
			v.Pending, v.Sent, v.Failed = s.Pending, s.Sent, s.Failed
			if s.Pending > 0 {
				v.OldestPending = s.Oldest.UTC()
			}
			if !s.LastSent.IsZero() {
				v.LastSent = s.LastSent.UTC()
			}
			if e := s.LastError; e.ID != 0 {
				v.LastError = &NotifierError{ID: e.ID, MsgID: e.MsgID, State: e.State, Attempts: e.Attempts,
					Created: e.Created.UTC(), Error: c.Redact(e.LastError)}
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}

// ParseTestLang reads the query of POST /api/v1/notifiers/{name}/test:
// at most one lang, id (the default) or en, and nothing else.
func ParseTestLang(q url.Values) (string, error) {
	lang := notify.LangID
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		if k != "lang" {
			return "", &ParamError{strconv.Quote(clipParam(k)), errors.New("unknown parameter: use lang")}
		}
		if len(vs) != 1 {
			return "", &ParamError{"lang", errors.New("give it once")}
		}
		if !notify.ValidLang(vs[0]) {
			return "", &ParamError{"lang", fmt.Errorf("%q: use id or en", clipParam(vs[0]))}
		}
		lang = vs[0]
	}
	return lang, nil
}

func (n *Notifiers) test(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	lang, err := ParseTestLang(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	name := r.PathValue("name")
	if len(n.o.Notifiers) == 0 || n.o.Enqueue == nil {
		writeError(w, http.StatusConflict, "no notifiers are configured: add them under notifiers: in collector.yml "+
			"(pantau-collector notify example prints one of every type) and restart the collector")
		return
	}
	if n.byName[name] == nil {
		names := make([]string, 0, len(n.o.Notifiers))
		for _, c := range n.o.Notifiers {
			names = append(names, c.Name)
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no notifier %q; configured: %s (GET /api/v1/notifiers lists them)",
			clipParam(name), strings.Join(names, ", ")))
		return
	}
	// an alertmanager gets the resolution right after, as from `notify
	// test`: else Alertmanager keeps PantauTest active for 24 h
	m, resolution, err := outbox.QueueTest(r.Context(), n.o.Enqueue, name, n.byName[name].Type, lang, time.Now())
	if err != nil {
		n.internal(w, "queue a test notification", err)
		return
	}
	e, ok, err := n.o.DB.OutboxFind(r.Context(), name, m.ID)
	if err != nil || !ok {
		// queued all the same: answer without the entry id
		n.o.Logger.Warn("queued a test notification but cannot read its outbox entry", "notifier", name, "id", m.ID, "err", err)
	}
	warning := n.record(r, "notifier/"+name, fmt.Sprintf("test notification %s queued (lang %s)", m.ID, lang))
	res := map[string]any{"notifier": name, "msg_id": m.ID, "lang": lang, "state": statedb.OutboxPending,
		"note": "the collector sends it within seconds; GET /api/v1/notifiers shows the outcome"}
	if ok {
		res["id"] = e.ID
	}
	if resolution != nil {
		res["resolution_msg_id"] = resolution.ID
		res["note"] = "the collector sends it within seconds, and its resolution right after (Alertmanager passes the test alert to its receivers only if it stays firing past the route's group_wait; pantau-collector notify test --hold does that); GET /api/v1/notifiers shows the outcome"
	}
	done(w, http.StatusAccepted, res, warning)
}

// record writes the audit row of a change (see Admin.record).
func (n *Notifiers) record(r *http.Request, object, summary string) string {
	return recordChange(r, n.o.DB, n.o.Logger, object, summary)
}

// internal answers 500 for a failure of the collector's own stores.
func (n *Notifiers) internal(w http.ResponseWriter, what string, err error) {
	internalError(w, n.o.Logger, what, err)
}

// Outbox listing bounds: ?limit= is 1 to MaxOutboxLimit, default
// DefaultOutboxLimit.
const (
	DefaultOutboxLimit = 100
	MaxOutboxLimit     = 1000
)

// ParseOutboxQuery reads the query of GET /api/v1/outbox: notifier (a
// name; default every one), state (pending, sent or failed; default
// every one) and limit (1 to MaxOutboxLimit, default
// DefaultOutboxLimit), each at most once, nothing else. The error is a
// *ParamError naming the parameter.
func ParseOutboxQuery(q url.Values) (statedb.OutboxFilter, error) {
	f := statedb.OutboxFilter{Limit: DefaultOutboxLimit}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		switch k {
		case "notifier", "state", "limit":
		default:
			return f, &ParamError{strconv.Quote(clipParam(k)), errors.New("unknown parameter: use notifier, state and limit")}
		}
		if len(vs) != 1 {
			return f, &ParamError{k, fmt.Errorf("given %d times; give it once", len(vs))}
		}
		v := vs[0]
		switch k {
		case "notifier":
			if v == "" || len(v) > 128 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				return f, &ParamError{k, fmt.Errorf("%q: want a notifier's name (GET /api/v1/notifiers lists them)", clipParam(v))}
			}
			f.Notifier = v
		case "state":
			switch v {
			case statedb.OutboxPending, statedb.OutboxSent, statedb.OutboxFailed:
				f.State = v
			default:
				return f, &ParamError{k, fmt.Errorf("%q: use pending, sent or failed", clipParam(v))}
			}
		case "limit":
			l, err := strconv.Atoi(v)
			if err != nil || l < 1 || l > MaxOutboxLimit {
				return f, &ParamError{k, fmt.Errorf("%q: use a whole number from 1 to %d", clipParam(v), MaxOutboxLimit)}
			}
			f.Limit = l
		}
	}
	return f, nil
}

// OutboxView is an outbox entry as GET /api/v1/outbox shows it: never
// its payload, whose URL or fields may hold a notifier's secrets.
type OutboxView struct {
	ID       int64     `json:"id"`
	Notifier string    `json:"notifier"`
	MsgID    string    `json:"msg_id"`
	State    string    `json:"state"` // pending, sent or failed (for good)
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	// NextAttempt is when a pending entry is tried (again); Finished when
	// a sent or failed one was delivered or refused for good.
	NextAttempt *time.Time `json:"next_attempt"`
	Finished    *time.Time `json:"finished"`
	// Error is the last attempt's error, scrubbed of the notifier's
	// secrets as in GET /api/v1/notifiers ("" none).
	Error string `json:"error"`
}

// withheldError replaces the error of an entry whose notifier is no
// longer configured: its secrets are unknown, so its text cannot be
// scrubbed.
const withheldError = "(withheld: the notifier is no longer in collector.yml, so its secrets cannot be scrubbed from the text; pantau-collector notify outbox on the host shows it)"

func (n *Notifiers) outbox(w http.ResponseWriter, r *http.Request) {
	if !admin(w, r) {
		return
	}
	f, err := ParseOutboxQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	es, err := n.o.DB.OutboxEntries(r.Context(), f)
	if err != nil {
		n.internal(w, "read the notification outbox", err)
		return
	}
	out := make([]OutboxView, 0, len(es))
	for _, e := range es {
		v := OutboxView{ID: e.ID, Notifier: e.Notifier, MsgID: e.MsgID, State: e.State, Attempts: e.Attempts, Created: e.Created.UTC()}
		if e.State == statedb.OutboxPending {
			t := e.Next.UTC()
			v.NextAttempt = &t
		} else if !e.Done.IsZero() {
			t := e.Done.UTC()
			v.Finished = &t
		}
		if e.LastError != "" {
			if c := n.byName[e.Notifier]; c != nil {
				v.Error = c.Redact(e.LastError)
			} else {
				v.Error = withheldError
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}
