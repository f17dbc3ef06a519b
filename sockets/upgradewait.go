package sockets

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

// waitUpgrade orders a polling GET after an upgrade in progress, as Node
// does (socket.io-protocol and engine.io-protocol suites, "upgrade: ignore
// HTTP requests with same sid after upgrade").
//
// A client that has sent the probe ("2probe") and the upgrade ("5") on its
// WebSocket, and then a GET, must get 400: the session is on WebSocket now.
// Node reads the WebSocket frames first. Here the frames and the GET are
// read on goroutines of their own (servers/engine/v3 socket.go
// MaybeUpgrade), so the GET often reaches the engine first, is parked as
// an ordinary long-poll and answered 200 with a NOOP.
//
// So a polling GET for a session that is upgrading waits, before the
// engine sees it, until the probe has been read (at most probeWait: a
// client sends it as soon as its WebSocket is open), and then until the
// upgrade is done, for at most upgradeGrace. upgradeGrace is the engine's
// upgrade check interval: a stock client waits for its pending GET to end
// before it sends "5", and a parked GET is answered with a NOOP within that
// interval anyway, so this GET is late by at most as much again.
//
// The wait starts as soon as the WebSocket request is in: the client has
// its 101 before the engine marks the session upgrading. Each session's
// upgrade is watched from its first WebSocket request on (a probe read
// before the watch would be missed), until it closes.
func waitUpgrade(eio engine.BaseServer, next http.Handler) http.Handler {
	u := &upgradeWatches{eio: eio, watches: map[string]*upgradeWatch{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sid := q.Get("sid")
		switch {
		case sid == "" || r.Method != http.MethodGet:
		case websocket.IsWebSocketUpgrade(r):
			if uw := u.watch(sid); uw != nil {
				// The engine has attached the WebSocket (MaybeUpgrade) when
				// it returns, or refused it.
				defer uw.attached.fire()
			}
		case q.Get("transport") == "polling":
			u.wait(r, sid)
			// Upgraded meanwhile: refuse the GET here, as the engine would
			// have, rather than let it race the engine's discard of the
			// polling transport (a GET parked there is never answered).
			if conn, ok := eio.Clients().Load(sid); ok && conn.Upgraded() {
				// Node writes "3probe" before it reads "5"; here the
				// WebSocket may still be writing it: let that write go
				// first, so a client that reads its WebSocket after this
				// answer does not find the probe answer there.
				waitWritten(conn, upgradeGrace)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"code":3,"message":"Bad request"}`))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

const (
	probeWait    = time.Second
	upgradeGrace = engine.DefaultUpgradeCheckInterval
)

type upgradeWatches struct {
	eio engine.BaseServer

	mu      sync.Mutex
	watches map[string]*upgradeWatch // by sid
}

// upgradeWatch is one session's upgrade.
type upgradeWatch struct {
	attached *signal // the engine has handled the WebSocket request
	probed   *signal // the probe was answered ("upgrading")
	done     *signal // upgraded, or the session closed
}

// watch starts watching session sid's upgrade, once per session; it
// returns the new watch, or nil.
func (u *upgradeWatches) watch(sid string) *upgradeWatch {
	conn, ok := u.eio.Clients().Load(sid)
	if !ok || conn.Upgraded() {
		return nil
	}
	u.mu.Lock()
	if u.watches[sid] != nil {
		u.mu.Unlock()
		return nil
	}
	uw := &upgradeWatch{attached: newSignal(), probed: newSignal(), done: newSignal()}
	u.watches[sid] = uw
	u.mu.Unlock()
	_ = conn.Once("upgrading", func(...any) { uw.probed.fire() })
	_ = conn.Once("upgrade", func(...any) { uw.done.fire() })
	OnEngineClose(conn, func() {
		uw.done.fire()
		u.mu.Lock()
		delete(u.watches, sid)
		u.mu.Unlock()
	})
	return uw
}

// wait holds a polling GET while session sid is upgrading (see waitUpgrade).
func (u *upgradeWatches) wait(r *http.Request, sid string) {
	conn, ok := u.eio.Clients().Load(sid)
	if !ok || conn.Upgraded() {
		return
	}
	u.mu.Lock()
	uw := u.watches[sid]
	u.mu.Unlock()
	if uw == nil {
		return
	}
	// Attaching takes microseconds once the request is in.
	if !uw.attached.wait(r, probeWait, uw.done.ch) || !conn.Upgrading() {
		return
	}
	if !uw.probed.wait(r, probeWait, uw.done.ch) {
		return
	}
	uw.done.wait(r, upgradeGrace, nil)
}

// signal is a one-time event.
type signal struct {
	once sync.Once
	ch   chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) fire() { s.once.Do(func() { close(s.ch) }) }

// wait reports whether s fired within d, before also (when not nil) fired
// and before r's client left.
func (s *signal) wait(r *http.Request, d time.Duration, also <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ch:
		return true
	case <-also:
	case <-t.C:
	case <-r.Context().Done():
	}
	return false
}

// waitWritten waits, at most d, until conn's transport has written what it
// was writing (its "drain").
func waitWritten(conn engine.Socket, d time.Duration) {
	t := conn.Transport()
	if t == nil || t.Writable() {
		return
	}
	drained := make(chan struct{})
	var once sync.Once
	_ = t.Once("drain", func(...any) { once.Do(func() { close(drained) }) })
	if t.Writable() {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-drained:
	case <-timer.C:
	}
}
