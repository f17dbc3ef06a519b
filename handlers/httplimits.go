package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/limits"
)

// Per-IP limits guard the ways in that carry no limit of their own:
//   - a token bucket for HTTP requests, except Socket.IO's (those are
//     limited per connection below, then per socket by limits.Events) and
//     those of trusted callers (the shop backend and staff), whose volume
//     comes from one address by design;
//   - a cap on concurrent long-lived connections: Socket.IO sessions and
//     SSE streams. Handshakes over the cap get 429 before the engine sees
//     them.
//
// Addresses come from gin's ClientIP, which honours X-Forwarded-For only
// from --trusted-proxies. IPv6 clients are keyed by their /64, the block
// one subscriber usually gets, so rotating addresses inside it gains nothing.

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

// addressLimits hold the per-address request rate and connection cap.
type addressLimits struct {
	rate  *limits.PerAddress // nil: no per-address request limit
	conns *limits.Conns      // nil: no per-address connection cap
}

var errTooManyConns = &Error{http.StatusTooManyRequests, CodeRateLimited, "too many connections from this address"}

// limitHTTP applies the per-address request rate, after credentials.read:
// trusted callers are not limited.
func (h *addressLimits) limitHTTP(c *gin.Context) {
	if h.rate == nil || strings.HasPrefix(c.Request.URL.Path, "/socket.io/") || callerOf(c).Trusted() {
		c.Next()
		return
	}
	if !h.rate.Allow(limits.Key(c.ClientIP())) {
		c.Header("Retry-After", "1")
		abort(c, errRateLimited)
		return
	}
	c.Next()
}

// limitHandshakes refuses a Socket.IO handshake (a request without sid)
// from an address at its connection cap, and hands an admitted one a slot
// for the session it opens (see TrackConnections).
func (h *addressLimits) limitHandshakes(c *gin.Context) {
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
		h.conns.Release(key) // the engine refused the handshake
	}
}

// holdConnection counts a long-lived HTTP response (an SSE stream) as one
// connection of its address while it lasts.
func (h *addressLimits) holdConnection(c *gin.Context) {
	if h.conns == nil {
		c.Next()
		return
	}
	key, ok := h.acquireConn(c)
	if !ok {
		return
	}
	defer h.conns.Release(key)
	c.Next()
}

// acquireConn takes one of the caller's address's connection slots, or
// answers 429 and reports false.
func (h *addressLimits) acquireConn(c *gin.Context) (string, bool) {
	key := limits.Key(c.ClientIP())
	if !h.conns.Acquire(key) {
		c.Header("Retry-After", "5")
		abort(c, errTooManyConns)
		return "", false
	}
	return key, true
}

// trackConnections ties each admitted handshake's slot to the Engine.IO
// session it opened, so that the slot is freed when that session closes.
// The engine reports the session while it serves the handshake request, so
// the slot is always adopted before limitHandshakes would free it.
func (h *addressLimits) trackConnections(s Sessions) {
	if h.conns == nil {
		return
	}
	s.OnSession(func(r *http.Request) func() {
		slot, _ := r.Context().Value(connSlotKey{}).(*connSlot)
		if slot == nil {
			return nil
		}
		if !slot.state.CompareAndSwap(slotPending, slotAdopted) {
			h.conns.Force(slot.key) // freed already: count the session anyway
		}
		return func() { h.conns.Release(slot.key) }
	})
}
