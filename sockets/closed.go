package sockets

import (
	"sync"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Workaround 15 (servers/engine/v3/base-server.go Handshake): the engine
// sends a session's OPEN packet before it registers the session and emits
// "connection", so a client may close, and the session be closed, before
// the "connection" listeners run. A "close" listener added there then never
// fires: a connection slot, a pending-poll entry or a transport's write
// queue is held for good. When the close comes even before Handshake's own
// listener, the closed session also stays in the engine's client map.
// OnEngineClose and onClosed run fn once the session or transport
// has closed, including when it closed before the call.

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

// forgetClosed drops a session that closed before the engine listened for
// its close from the engine's client map (see workaround 15).
func forgetClosed(eio engine.BaseServer, conn engine.Socket) {
	if conn.ReadyState() == "closed" {
		eio.Clients().Delete(conn.Id())
	}
}
