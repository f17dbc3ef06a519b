package handlers

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Per-IP limits guard the ways in that carry no limit of their own:
//   - a token bucket for HTTP requests, except Socket.IO's (those are
//     limited per connection below, then per socket by eventLimiter) and
//     those of trusted callers (the shop backend and staff), whose volume
//     comes from one address by design;
//   - a cap on concurrent long-lived connections: Socket.IO sessions and
//     SSE streams. Handshakes over the cap get 429 before the engine sees
//     them.
//
// Addresses come from gin's ClientIP, which honours X-Forwarded-For only
// from --trusted-proxies. IPv6 clients are keyed by their /64, the block
// one subscriber usually gets, so rotating addresses inside it gains nothing.

// ipKey is the limiter key of a client address.
func ipKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// ipRateLimiter is one token bucket per key.
type ipRateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*ipBucket
	lastSweep time.Time
}

type ipBucket struct {
	tokens float64
	last   time.Time
}

// sweepAbove is the map size above which idle buckets are dropped; a
// bucket that has refilled completely holds no state worth keeping.
const sweepAbove = 1024

func newIPRateLimiter(rate float64, burst int, now func() time.Time) *ipRateLimiter {
	return &ipRateLimiter{rate: rate, burst: float64(max(burst, 1)), now: now,
		buckets: map[string]*ipBucket{}, lastSweep: now()}
}

// allow takes a token from key's bucket when one is left.
func (l *ipRateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	b := l.buckets[key]
	if b == nil {
		l.sweep(t)
		b = &ipBucket{tokens: l.burst, last: t}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+t.Sub(b.last).Seconds()*l.rate)
	b.last = t
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// sweep drops full buckets, at most once a second, so the map holds only
// the addresses seen in the last burst/rate seconds.
func (l *ipRateLimiter) sweep(t time.Time) {
	if len(l.buckets) < sweepAbove || t.Sub(l.lastSweep) < time.Second {
		return
	}
	l.lastSweep = t
	for k, b := range l.buckets {
		if b.tokens+t.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets kept (tests).
func (l *ipRateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// connCounter caps concurrent connections per key.
type connCounter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newConnCounter(max int) *connCounter { return &connCounter{max: max, n: map[string]int{}} }

// acquire takes a slot for key unless key holds max already.
func (c *connCounter) acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] >= c.max {
		return false
	}
	c.n[key]++
	return true
}

// force takes a slot whatever the count: for a connection that exists
// already and must be counted so that its release balances.
func (c *connCounter) force(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

func (c *connCounter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] <= 1 {
		delete(c.n, key)
		return
	}
	c.n[key]--
}

// count is key's number of connections (tests, metrics).
func (c *connCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// connSlot is the slot a Socket.IO handshake took. The Engine.IO session
// the handshake opens adopts it and frees it when it closes; a handshake
// the engine refused frees it when its request ends.
type connSlot struct {
	key   string
	state atomic.Int32 // slotPending, slotAdopted or slotFreed
}

const (
	slotPending = iota
	slotAdopted
	slotFreed
)

type connSlotKey struct{}

var errTooManyConns = &Error{http.StatusTooManyRequests, CodeRateLimited, "too many connections from this address"}

// limitHTTP applies the per-IP request rate.
func (h *Handlers) limitHTTP(c *gin.Context) {
	if h.ipRate == nil || strings.HasPrefix(c.Request.URL.Path, "/socket.io/") || h.trustedBearer(c.Request) {
		c.Next()
		return
	}
	if !h.ipRate.allow(ipKey(c.ClientIP())) {
		c.Header("Retry-After", "1")
		h.abort(c, errRateLimited)
		return
	}
	c.Next()
}

// trustedBearer reports whether r carries the API key or a valid staff token.
func (h *Handlers) trustedBearer(r *http.Request) bool {
	tok, ok := bearer(r)
	if !ok || tok == "" {
		return false
	}
	if h.apiKey.Match(tok) {
		return true
	}
	_, err := h.signer.Verify(tok)
	return err == nil
}

// limitHandshakes refuses a Socket.IO handshake (a request without sid)
// from an address at its connection cap, and hands an admitted one a slot
// for the session it opens (see TrackConnections).
func (h *Handlers) limitHandshakes(c *gin.Context) {
	if h.conns == nil || c.Query("sid") != "" {
		c.Next()
		return
	}
	key, ok := h.acquireConn(c)
	if !ok {
		return
	}
	slot := &connSlot{key: key}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), connSlotKey{}, slot))
	c.Next()
	if slot.state.CompareAndSwap(slotPending, slotFreed) {
		h.conns.release(key) // the engine refused the handshake
	}
}

// holdConnection counts a long-lived HTTP response (an SSE stream) as one
// connection of its address while it lasts.
func (h *Handlers) holdConnection(c *gin.Context) {
	if h.conns == nil {
		c.Next()
		return
	}
	key, ok := h.acquireConn(c)
	if !ok {
		return
	}
	defer h.conns.release(key)
	c.Next()
}

// acquireConn takes one of the caller's address's connection slots, or
// answers 429 and reports false.
func (h *Handlers) acquireConn(c *gin.Context) (string, bool) {
	key := ipKey(c.ClientIP())
	if !h.conns.acquire(key) {
		c.Header("Retry-After", "5")
		h.abort(c, errTooManyConns)
		return "", false
	}
	return key, true
}

// Sessions reports the Socket.IO sessions that open (sockets.Server).
type Sessions interface {
	OnSession(fn func(r *http.Request) (closed func()))
}

// TrackConnections ties each admitted handshake's slot to the Engine.IO
// session it opened, so that the slot is freed when that session closes.
// The engine reports the session while it serves the handshake request, so
// the slot is always adopted before limitHandshakes would free it.
func (h *Handlers) TrackConnections(s Sessions) {
	if h.conns == nil {
		return
	}
	s.OnSession(func(r *http.Request) func() {
		slot, _ := r.Context().Value(connSlotKey{}).(*connSlot)
		if slot == nil {
			return nil
		}
		if !slot.state.CompareAndSwap(slotPending, slotAdopted) {
			h.conns.force(slot.key) // freed already: count the session anyway
		}
		return func() { h.conns.release(slot.key) }
	})
}
