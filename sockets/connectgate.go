package sockets

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// holdUntilJoined works around defect 9 (servers/socket/v3/namespace.go
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
// It returns what to do for each new session (see onOpened).
func holdUntilJoined(io *socket.Server, timeout time.Duration) func(engine.Socket) {
	var mu sync.Mutex
	gates := map[string]*joinGate{} // engine session id -> its gates

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
			g.close()
		}
	})
	return func(conn engine.Socket) {
		g := &joinGate{}
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
			if b, text := p.Data.(*types.StringBuffer); text && connectsToMain(b.Bytes()) {
				g.close() // a CONNECT again: a new wait starts
				g.open()
				return
			}
			g.wait(timeout)
		})
		// A refused CONNECT ("44" without a namespace) ends the wait too.
		_ = conn.On("packetCreate", func(args ...any) {
			if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.MESSAGE {
				if b, text := textBytes(p.Data); text && refusesMain(b) {
					g.close()
				}
			}
		})
		OnEngineClose(conn, func() {
			g.close()
			mu.Lock()
			delete(gates, id)
			mu.Unlock()
		})
	}
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
