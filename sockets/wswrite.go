package sockets

import (
	"errors"
	"net"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
)

// The write side of wsTransport: frames appended under t.mu to one pooled
// buffer, written at once without blocking (commit), held while an emit
// runs (wscork.go), or left to writeLoop when the socket is full.

// Send writes packets as one write(2) of coalesced frames.
func (t *wsTransport) Send(packets []*packet.Packet) {
	buf, ok := t.acquire()
	if !ok {
		return
	}
	start := len(*buf)
	pr, binary := t.Parser(), t.SupportsBinary()
	hold := t.cork != nil && t.cork.corked()
	ping := false
	for _, p := range packets {
		var err error
		if *buf, err = appendPacket(*buf, p, pr, binary); err != nil {
			*buf = (*buf)[:start]
			t.commit(buf, false, false)
			t.OnError("websocket encode", err)
			return
		}
		hold = hold && heldBack(p)
		ping = ping || p.Type == packet.PING
	}
	switch {
	case ping && t.pingDelay > 0:
		t.deferWrite(buf)
	case ping:
		// Written with whatever a hold kept (wshold.go): a hold whose
		// release never comes keeps frames until the next PING at most.
		t.write(buf, true)
	default:
		t.commit(buf, true, hold)
	}
}

// pingWriteDelay is how long a flush with a PING waits before it is
// written; 0: at once. Defect 18 (doc.go): the engine arms a PING's
// timeout only after Send returns, and a PONG read before that clears
// nothing, so the timer armed afterwards closes the session when
// pingInterval > pingTimeout. Otherwise the next PING clears that timer
// before it fires, and a PING is written at once, as any flush: a timer
// and a goroutine fewer per PING, 500 a second with 10k connections at
// ordercast's defaults.
// Written at once from the engine's goroutine, the PING let a fast client
// win that race in about 1 conformance run in 8. Written later from
// writeLoop, it loses only when that goroutine is kept off a core for
// longer than the delay between Send and arming the timer: 5 ms was
// beaten once, by 1 session in 40, in a CI run under go test -race ./...
// So the delay is a tenth of pingTimeout (the client's PONG has the rest),
// 5 to 20 ms; other frames of this session wait with the PING, once per
// pingInterval.
func pingWriteDelay(interval, timeout time.Duration) time.Duration {
	if interval <= timeout {
		return 0
	}
	return min(max(timeout/10, 5*time.Millisecond), 20*time.Millisecond, timeout/2)
}

// deferWrite leaves buf to writeLoop, t.pingDelay from now, and
// unlocks t.mu; the engine keeps further packets until "ready".
func (t *wsTransport) deferWrite(buf *[]byte) {
	t.pending = buf
	t.drains++
	if t.writing {
		t.mu.Unlock()
		return
	}
	t.off, t.writing = 0, true
	t.SetWritable(false)
	t.mu.Unlock()
	time.AfterFunc(t.pingDelay, t.writeLoop)
}

// flushHeld writes what the corker held back.
func (t *wsTransport) flushHeld() {
	t.mu.Lock()
	t.held = false
	t.writeKept()
}

// writeKept writes what was kept back once neither the corker nor a
// hold (wshold.go) keeps it any more; t.mu is held, and unlocked.
func (t *wsTransport) writeKept() {
	if t.held || t.holds > 0 || t.writing || t.closing || t.pending == nil {
		t.mu.Unlock()
		return
	}
	t.commit(t.pending, false, false)
}

// control writes one control frame (pong, close) in order with the rest.
func (t *wsTransport) control(op byte, payload []byte) {
	if buf, ok := t.acquire(); ok {
		*buf = appendFrame(*buf, op, payload)
		t.commit(buf, false, false)
	}
}

// acquire locks t.mu and returns the buffer to append frames to; false
// (unlocked) once the transport is closing.
func (t *wsTransport) acquire() (*[]byte, bool) {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return nil, false
	}
	if t.pending != nil {
		return t.pending, true
	}
	return t.pool.get(), true
}

// commit writes buf, or leaves it to writeLoop, to the corker (hold) or
// to the last releaseWrites (wshold.go), and unlocks t.mu. drain: the
// engine is owed a "drain" once buf is written (a held buffer's at once:
// it is in order with the rest).
func (t *wsTransport) commit(buf *[]byte, drain, hold bool) {
	if t.keep(hold) {
		t.pending = buf
		t.mu.Unlock()
		if drain {
			t.Emit("drain")
		}
		return
	}
	t.write(buf, drain)
}

// write writes buf, or leaves it to writeLoop, and unlocks t.mu; drain as
// for commit.
func (t *wsTransport) write(buf *[]byte, drain bool) {
	if t.writing {
		t.pending = buf
		if drain {
			t.drains++
		}
		t.mu.Unlock()
		return
	}
	t.pending = nil
	if len(*buf) == 0 {
		t.pool.put(buf)
		t.mu.Unlock()
		return
	}
	var n int
	var err error
	if t.raw != nil {
		n, err = writeNow(t.raw, &t.now, t.nowFn, *buf)
	}
	if err == nil && n < len(*buf) {
		// The socket took part of it: the rest waits for writeLoop, and
		// the engine keeps further packets until "ready".
		t.pending, t.off, t.writing = buf, n, true
		if drain {
			t.drains++
		}
		t.SetWritable(false)
		t.mu.Unlock()
		go t.writeLoop()
		return
	}
	t.pool.put(buf)
	t.mu.Unlock()
	if err != nil {
		t.writeError(err)
	} else if drain {
		t.Emit("drain")
	}
}

// keep tells whether what commit has is kept back for now: while replies
// are batched (holds), or, for broadcast frames (hold), while an emit runs
// (the corker then lists t); t.mu is held.
func (t *wsTransport) keep(hold bool) bool {
	switch {
	case t.writing || t.closing:
		return false
	case t.holds > 0:
		return true
	case hold && (t.held || t.cork.hold(t)):
		t.held = true
		return true
	}
	return false
}

// writeLoop writes what is pending until nothing is, then hands the write
// side back to the callers and tells the engine it may flush again.
func (t *wsTransport) writeLoop() {
	for {
		t.mu.Lock()
		buf, off, drains := t.pending, t.off, t.drains
		if buf == nil {
			t.writing = false
			closing := t.closing
			t.mu.Unlock()
			if closing {
				t.closeConn()
				return
			}
			t.SetWritable(true)
			t.Emit("ready")
			return
		}
		t.pending, t.off, t.drains = nil, 0, 0
		t.mu.Unlock()
		_, err := t.conn.Write((*buf)[off:])
		t.pool.put(buf)
		if err != nil {
			t.writeError(err)
			return // writing stays true: nothing more is written
		}
		for range drains {
			t.Emit("drain")
		}
	}
}

func (t *wsTransport) writeError(err error) {
	if !errors.Is(err, net.ErrClosed) {
		t.OnError("websocket write", err)
	}
	t.closeConn()
}
