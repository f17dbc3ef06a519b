package sockets

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// holdUntilJoined is workaround 9 (servers/socket/v3/namespace.go
// _doConnect, servers/socket/v3/client.go ondecoded): the server writes a
// socket's CONNECT reply ("40{sid}") before it registers the socket with
// its client. A client that emits as soon as it is connected (the stock
// client's emits in a 'connect' handler) can have that event read in
// between; the client finds no socket for the namespace, takes it for a
// protocol violation and closes the whole connection ("forced close"),
// losing the event. Seen about once in 500 connects on a busy machine.
//
// Here, once a client has sent a CONNECT to "/", its following packets
// wait (in the goroutine reading them, so in order) until the socket has
// joined, the CONNECT was refused, the connection closed, or timeout.
//
// The same gate removes the cause of defect 2 (servers/engine/v3
// base-server.go Handshake, servers/socket/v3 server.go onconnection):
// over WebSocket the engine writes the OPEN packet before it emits
// "connection", where the Socket.IO layer starts listening to the session,
// so a CONNECT sent at once can be read before anyone listens, and is lost
// (about 1 connect in 1,000). A session's first messages wait until the
// engine's "connection" listeners, the Socket.IO layer's first, have run.
// The connect timeout (--connect-timeout) stays as the backstop.
//
// It returns what to do for each new session (see onOpened).
func holdUntilJoined(io *socket.Server, timeout time.Duration) func(engine.Socket) {
	var mu sync.Mutex
	gates := map[string]*sessionGates{} // engine session id -> its gates

	// Registered after the Socket.IO layer's own listener (New serves the
	// engine first), so it runs once that layer listens to the session.
	_ = io.Engine().On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		mu.Lock()
		g := gates[conn.Id()]
		mu.Unlock()
		if g != nil {
			g.attached.close()
		}
	})

	// "connection" fires once the socket is registered with its client.
	_ = io.On("connection", func(args ...any) {
		s, ok := args[0].(*socket.Socket)
		if !ok || s.Conn() == nil {
			return
		}
		mu.Lock()
		g := gates[s.Conn().Id()]
		mu.Unlock()
		if g != nil {
			g.joined.close()
		}
	})
	return func(conn engine.Socket) {
		g := &sessionGates{}
		g.attached.open()
		id := conn.Id()
		mu.Lock()
		gates[id] = g
		mu.Unlock()
		// "packet" comes before the Socket.IO decoder sees the data.
		_ = conn.On("packet", func(args ...any) {
			p, ok := args[0].(*packet.Packet)
			if !ok || p.Type != packet.MESSAGE {
				return
			}
			g.attached.wait(timeout)
			if b, text := p.Data.(*types.StringBuffer); text && connectsToMain(b.Bytes()) {
				g.joined.close() // a CONNECT again: a new wait starts
				g.joined.open()
				return
			}
			g.joined.wait(timeout)
		})
		// A refused CONNECT ("44" without a namespace) ends the wait too.
		_ = conn.On("packetCreate", func(args ...any) {
			if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.MESSAGE {
				if b, text := p.Data.(*types.StringBuffer); text && refusesMain(b.Bytes()) {
					g.joined.close()
				}
			}
		})
		OnEngineClose(conn, func() {
			g.attached.close()
			g.joined.close()
			mu.Lock()
			delete(gates, id)
			mu.Unlock()
		})
	}
}

// sessionGates hold one session's messages: until the Socket.IO layer
// listens to it (attached), and while a CONNECT is pending (joined).
type sessionGates struct {
	attached, joined joinGate
}

// joinGate is closed while there is nothing to wait for.
type joinGate struct {
	mu sync.Mutex
	ch chan struct{} // nil: nothing to wait for
}

func (g *joinGate) open() {
	g.mu.Lock()
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

func (g *joinGate) close() {
	g.mu.Lock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
	g.mu.Unlock()
}

func (g *joinGate) wait(timeout time.Duration) {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch == nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		g.close()
	}
}

// connectsToMain reports whether a Socket.IO packet is a CONNECT to "/":
// "0", "0{...}" or "0/,...".
func connectsToMain(b []byte) bool {
	return len(b) > 0 && b[0] == '0' && (len(b) == 1 || b[1] == '{' || (len(b) > 2 && b[1] == '/' && b[2] == ','))
}

// refusesMain reports whether a Socket.IO packet is a CONNECT_ERROR for "/".
func refusesMain(b []byte) bool {
	return len(b) > 1 && b[0] == '4' && b[1] != '/'
}
