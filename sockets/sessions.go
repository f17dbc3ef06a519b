package sockets

import (
	"net/http"
	"sync"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Defect 15 (servers/engine/v3/base-server.go Handshake): the engine
// sends a session's OPEN packet before it registers the session and emits
// "connection", so by the time the "connection" listeners run the client
// may have sent packets (which then passed listeners not yet added: the
// connect gate of workaround 9, the binary watch of workaround 7), or
// closed, and a "close" listener added then never fires: a connection
// slot, a pending-poll entry or a transport's write queue is held for good.
//
// So ordercast's per-session listeners are added by onOpened, at the flush
// of the OPEN packet, before the client can have it; and close listeners
// go through OnEngineClose and onClosed, which also run for a session or
// transport closed before the call.

// onOpened runs fns for each new engine session, before its OPEN packet is
// written: the engine emits "flush" with the packets, then writes them.
// One listener for all: it runs at every flush of every session.
func onOpened(eio engine.BaseServer, fns ...func(conn engine.Socket)) {
	_ = eio.On("flush", func(args ...any) {
		if len(args) < 2 {
			return
		}
		packets, ok := args[1].([]*packet.Packet)
		if !ok || len(packets) == 0 || packets[0].Type != packet.OPEN {
			return
		}
		if conn, ok := args[0].(engine.Socket); ok {
			for _, fn := range fns {
				fn(conn)
			}
		}
	})
}

// OnEngineClose runs fn once, when conn closes or at once if it is closed.
func OnEngineClose(conn engine.Socket, fn func()) { onClosed(conn, fn) }

// closable is an engine session or a transport.
type closable interface {
	Once(types.EventName, ...types.EventListener) error
	ReadyState() string
}

// onClosed runs fn once, when c closes or at once if it is closed.
func onClosed(c closable, fn func()) {
	var once sync.Once
	run := func(...any) { once.Do(fn) }
	_ = c.Once("close", run)
	if c.ReadyState() == "closed" {
		run()
	}
}

// OnSession runs fn for each new Engine.IO session, with the request that
// opened it, while the engine still serves that request; the func fn
// returns, if not nil, runs once when the session closes (at once if it
// closed already: defect 15).
func (s *Server) OnSession(fn func(r *http.Request) (closed func())) {
	_ = s.IO.Engine().On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok || conn.Request() == nil {
			return
		}
		if closed := fn(conn.Request().Request()); closed != nil {
			OnEngineClose(conn, closed)
		}
	})
}
