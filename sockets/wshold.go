package sockets

import (
	"sync"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// BatchReplies runs reply, which writes an ack to s, and writes that ack
// together with the acks of the events already queued behind it on s: a
// client that sends several events at once (a page following ten orders
// subscribes to all ten) gets their acks in one write(2), where each cost
// one. The library runs a socket's events one after another on its task
// queue; the hold is released by a task queued after them, so a client
// that sends one event at a time waits for nothing. Broadcasts written to
// the connection meanwhile are held too, in order. Only ordercast's own
// WebSocket transport holds; on long-polling (which batches by itself)
// reply just runs.
func (s *Server) BatchReplies(so *socket.Socket, reply func()) {
	t, ok := so.Conn().Transport().(*wsTransport)
	if !ok || s.noHold {
		reply()
		return
	}
	t.holdWrites()
	reply()
	var once sync.Once
	release := func() { once.Do(t.releaseWrites) }
	so.Enqueue(release)
	// A socket that disconnected meanwhile runs no more tasks: the queue
	// drops the release, and nothing else will follow the ack.
	if !so.Connected() {
		release()
	}
}

// holdWrites keeps what is written to t until releaseWrites; holds nest.
// A PING writes what is held with it (Send, wswrite.go), so a release that
// never came (a socket closed in the instant between its last ack and its
// release) holds frames for one ping interval at most.
func (t *wsTransport) holdWrites() {
	t.mu.Lock()
	t.holds++
	t.mu.Unlock()
}

// releaseWrites writes what the holds kept, once the last one is released.
func (t *wsTransport) releaseWrites() {
	t.mu.Lock()
	t.holds--
	t.writeKept()
}
