package sockets

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The read side of wsTransport. An idle WebSocket connection is what a
// server holds most of, so this side holds as little as it can while it
// waits: no read buffer (bytes are read into a pooled one only once the
// socket is readable, and it goes back as soon as every frame in it is
// handled), and a small stack: after handling messages the reader hands
// the wait to a fresh goroutine, because the one that ran the engine's
// packet path grew its stack to several KB and Go shrinks stacks only at
// a GC. Measured in bench/RESULTS.md.

// wsReader is the reader's state; only the reader goroutine touches it.
type wsReader struct {
	buf    *[]byte // pooled; nil while no byte is buffered
	start  int     // bytes of *buf already parsed
	limit  int64   // the engine's maxHttpBufferSize
	frag   []byte  // a fragmented message so far
	fragOp byte    // its opcode; 0: none in progress
}

// read handles messages until the connection ends.
func (t *wsTransport) read() {
	t.detach()
	for {
		if err := t.fill(); err != nil {
			t.endRead(err)
			return
		}
		handled, err := t.handleFrames()
		if err != nil {
			t.endRead(err)
			return
		}
		if handled && t.rd.buf == nil {
			go t.read() // the wait on a fresh stack (see above)
			return
		}
	}
}

// endRead reports err unless it is the connection's normal end, and
// closes the connection.
func (t *wsTransport) endRead(err error) {
	t.pool.put(t.rd.buf)
	t.rd.buf, t.rd.frag = nil, nil
	var fe *frameError
	switch {
	case errors.As(err, &fe):
		// Over-size or malformed: a transport error of this session alone,
		// told to the client with its close code first.
		writing := t.queueClose(websocket.FormatCloseMessage(fe.code, ""))
		t.OnError("websocket error", err)
		if !writing {
			t.closeConn()
		}
	case errors.Is(err, errPeerClosed): // answered: handleFrame called shutWrite
	case errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF):
		t.closeConn()
	default:
		t.OnError("websocket error", err)
		t.closeConn()
	}
}

// errPeerClosed: the client sent a close frame, which was answered.
var errPeerClosed = errors.New("websocket: closed by the client")

// fill waits until the connection is readable and reads what it has.
func (t *wsTransport) fill() error {
	if t.idle > 0 {
		_ = t.conn.SetReadDeadline(time.Now().Add(t.idle))
	}
	if t.raw == nil {
		// No descriptor to wait on: block in Read, holding a buffer.
		b := t.readSpace()
		n, err := t.conn.Read((*b)[len(*b):cap(*b)])
		*b = (*b)[:len(*b)+n]
		if n > 0 {
			return nil
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	t.readErr = nil
	if err := t.raw.Read(t.readFn); err != nil {
		return err // closed, or the idle deadline passed
	}
	return t.readErr
}

// readSpace returns the read buffer with free space after its bytes: a
// pooled one when none is held, compacted or grown when it is full.
func (t *wsTransport) readSpace() *[]byte {
	r := &t.rd
	if r.buf == nil {
		r.buf, r.start = t.pool.get(), 0
		return r.buf
	}
	b := *r.buf
	if len(b) < cap(b) {
		return r.buf
	}
	if r.start > 0 {
		n := copy(b, b[r.start:])
		*r.buf, r.start = b[:n], 0
		return r.buf
	}
	grown := make([]byte, len(b), 2*cap(b)) // a frame bigger than the buffer, within the limit
	copy(grown, b)
	*r.buf = grown
	return r.buf
}

// releaseIfEmpty gives the read buffer back when it holds nothing.
func (t *wsTransport) releaseIfEmpty() {
	if r := &t.rd; r.buf != nil && len(*r.buf) == r.start {
		t.pool.put(r.buf)
		r.buf, r.start = nil, 0
	}
}

// handleFrames passes every complete message in the buffer to the engine
// and answers control frames; handled: at least one frame was.
func (t *wsTransport) handleFrames() (handled bool, err error) {
	r := &t.rd
	held := false
	defer func() {
		if held {
			t.releaseWrites()
		}
	}()
	for r.buf != nil {
		f, n, err := parseFrame((*r.buf)[r.start:], r.limit)
		if err != nil {
			return handled, err
		}
		if n == 0 {
			break
		}
		r.start += n
		if !held && r.start < len(*r.buf) {
			// More than this frame was read: the acks of the first
			// messages, answered on another CPU while the rest are handed
			// over, wait to go out with the others' (wshold.go).
			t.holdWrites()
			held = true
		}
		handled = true
		if err := t.handleFrame(f); err != nil {
			return handled, err
		}
	}
	t.releaseIfEmpty()
	return handled, nil
}

func (t *wsTransport) handleFrame(f clientFrame) error {
	r := &t.rd
	switch f.op {
	case opPing:
		t.control(opPong, f.payload)
		return nil
	case opPong:
		return nil
	case opClose:
		reply, err := closeReply(f.payload)
		if err != nil {
			return err
		}
		t.shutWrite(reply)
		return errPeerClosed
	case opContinuation:
		if r.fragOp == 0 {
			return protocolError("continuation without a message")
		}
		if int64(len(r.frag)+len(f.payload)) > r.limit {
			return &frameError{code: closeTooBig, msg: "message over the size limit"}
		}
		r.frag = append(r.frag, f.payload...)
		if f.fin {
			op, msg := r.fragOp, r.frag
			r.frag, r.fragOp = nil, 0
			t.deliver(op, msg)
		}
		return nil
	}
	if r.fragOp != 0 {
		return protocolError("a new message inside a fragmented one")
	}
	if !f.fin {
		r.frag, r.fragOp = append([]byte(nil), f.payload...), f.op
		return nil
	}
	// The engine keeps what it is given: it gets its own copy, not the
	// pooled buffer.
	t.deliver(f.op, append([]byte(nil), f.payload...))
	return nil
}

func (t *wsTransport) deliver(op byte, msg []byte) {
	if op == opText && t.Parser().Protocol() == 4 {
		if p, ok := decodeText(msg); ok {
			t.OnPacket(p)
			return
		}
	}
	var data types.BufferInterface
	if op == opBinary {
		data = types.NewBytesBuffer(msg)
	} else {
		data = types.NewStringBuffer(msg)
	}
	t.OnData(data)
}

// decodeText decodes an Engine.IO v4 text message that msg, the
// transport's own copy, holds; false leaves it to the engine's parser
// (base64 binary, an unknown type, an empty message). The parser would
// copy the payload into a new buffer of at least 512 bytes, zeroed, for
// every message: on the ~100-byte subscribes of a burst that was 6% of
// the CPU, and much of the burst's new heap (bench/RESULTS.md).
func decodeText(msg []byte) (*packet.Packet, bool) {
	if len(msg) == 0 {
		return nil, false
	}
	typ, ok := parser.PACKET_TYPES_REVERSE[msg[0]]
	if !ok {
		return nil, false
	}
	return &packet.Packet{Type: typ, Data: types.NewStringBuffer(msg[1:])}, true
}
