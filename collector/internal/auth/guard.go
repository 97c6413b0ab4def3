package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Guard remembers the requests refused with 401 or 403 per source
// address (an IPv4 address, or the /64 of an IPv6 one): it rate-limits
// their log lines to one per address per minute, and refuses further
// requests (429) from an address that failed to authenticate more than
// limit times within a minute, so that guessing tokens costs nothing but
// the guesser's time. The table holds at most size addresses; when it is
// full, stale entries go first, else an arbitrary one.
type Guard struct {
	// limit is the 401s per address and minute before 429 (0: never);
	// size bounds the table (under mu). SetLimits changes both.
	limit atomic.Int64

	mu   sync.Mutex
	size int
	m    map[string]*addrState
}

type addrState struct {
	window     time.Time // start of the current minute of counting
	fails      int       // 401s within it
	lastLog    time.Time
	suppressed int // refusals not logged since lastLog
}

const guardWindow = time.Minute

func NewGuard(limit, size int) *Guard {
	if size <= 0 {
		size = 4096
	}
	g := &Guard{size: size, m: map[string]*addrState{}}
	g.limit.Store(int64(limit))
	return g
}

// SetLimits changes the limits (a reload of collector.yml); size <= 0
// means 4096. A smaller table drops entries as new addresses come.
func (g *Guard) SetLimits(limit, size int) {
	if size <= 0 {
		size = 4096
	}
	g.mu.Lock()
	g.size = size
	g.mu.Unlock()
	g.limit.Store(int64(limit))
}

// Limit is the 401s per address and minute before 429 (0: no limit).
func (g *Guard) Limit() int { return int(g.limit.Load()) }

// Blocked returns how long addr must wait before writing again; 0 when
// it may write now. A refused request counts as suppressed in the log.
func (g *Guard) Blocked(addr string, now time.Time) time.Duration {
	limit := int(g.limit.Load())
	if limit <= 0 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.m[addr]
	if s == nil || now.Sub(s.window) >= guardWindow || s.fails < limit {
		return 0
	}
	s.suppressed++
	return s.window.Add(guardWindow).Sub(now)
}

// Refused records a 401 (fail) or 403 from addr. It returns whether to
// log it, and how many refusals from addr were not logged since the last
// line.
func (g *Guard) Refused(addr string, fail bool, now time.Time) (log bool, suppressed int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.m[addr]
	if s == nil {
		g.makeRoom(now)
		s = &addrState{window: now}
		g.m[addr] = s
	}
	if now.Sub(s.window) >= guardWindow {
		s.window, s.fails = now, 0
	}
	if fail {
		s.fails++
	}
	if !s.lastLog.IsZero() && now.Sub(s.lastLog) < guardWindow {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.lastLog, s.suppressed = now, 0
	return true, n
}

// makeRoom drops entries until one more fits.
func (g *Guard) makeRoom(now time.Time) {
	if len(g.m) < g.size {
		return
	}
	for k, s := range g.m {
		if now.Sub(s.window) >= guardWindow && now.Sub(s.lastLog) >= guardWindow {
			delete(g.m, k)
		}
	}
	for k := range g.m {
		if len(g.m) < g.size {
			break
		}
		delete(g.m, k)
	}
}

func (g *Guard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}

// SourceOf is the address a request came from, as the guard keys it:
// the IPv4 address, or the /64 network of an IPv6 address (one host
// usually has a whole /64). Proxy headers are not trusted.
func SourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// TokenID returns the public id part of a token string
// ("pantau_<id>_<secret>"), or "" when tok does not have that shape
// (then no part of it is safe to log).
func TokenID(tok string) string {
	rest, ok := strings.CutPrefix(tok, "pantau_")
	if !ok {
		return ""
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 52 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return ""
		}
	}
	return id
}
