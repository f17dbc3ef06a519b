package sockets

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// wsBuilder makes ordercast's own WebSocket transport, plugged into the
// engine through its exported transport API (transports.MakeTransport,
// Prototype/Construct, StartReader). The library's transport costs, per
// delivery: a goroutine hand-off through its write queue, a re-encoding of
// the packet (with per-message deflate configured, even when it is never
// negotiated, it ignores the broadcast's pre-encoded frame) and one write(2)
// per frame. This one writes all the frames of a flush with one write(2),
// from the caller's goroutine when the socket takes them at once, and holds
// a write buffer only while it writes.
type wsBuilder struct {
	pool bufPool
	cork *corker // wscork.go; nil: nothing is held
}

func (*wsBuilder) Name() string          { return transports.WEBSOCKET }
func (*wsBuilder) HandlesUpgrades() bool { return true }
func (*wsBuilder) UpgradesTo() []string  { return nil }

func (b *wsBuilder) New(ctx *types.HttpContext) transports.Transport {
	return newWSTransport(ctx, &b.pool, b.cork)
}

// closeFlushTime bounds how long a closing transport keeps writing what it
// had queued before it closes the connection.
const closeFlushTime = 2 * time.Second

type wsTransport struct {
	transports.Transport
	ws    *types.WebSocketConn
	conn  net.Conn
	raw   syscall.RawConn // nil: every write goes through writeLoop
	idle  time.Duration
	pool  *bufPool
	cork  *corker
	shut  atomic.Bool // the connection is closed (closeConn)
	nowFn func(uintptr) bool

	mu      sync.Mutex
	pending *[]byte // frames not yet written (writing, or held)
	off     int     // bytes of *pending already written
	writing bool    // writeLoop owns the connection's write side
	drains  int     // Sends written by writeLoop whose "drain" is owed
	closing bool    // no more frames; close once pending is written
	held    bool    // in the corker's list
	now     nowWriter
}

func newWSTransport(ctx *types.HttpContext, pool *bufPool, cork *corker) *wsTransport {
	t := &wsTransport{
		Transport: transports.MakeTransport(),
		ws:        ctx.Websocket,
		conn:      ctx.Websocket.NetConn(),
		idle:      ctx.IdleTimeout,
		pool:      pool,
		cork:      cork,
	}
	t.raw = rawConn(t.conn)
	t.nowFn = t.now.write
	t.Prototype(t)
	t.Construct(ctx)
	_ = t.ws.On("error", func(errs ...any) {
		if len(errs) > 0 {
			err, _ := errs[0].(error)
			t.OnError("websocket error", err)
		}
	})
	_ = t.ws.Once("close", func(...any) { t.OnClose() })
	// Control frames go through this transport's writer too: gorilla's own
	// replies would write to the connection beside it.
	t.ws.SetPingHandler(func(data string) error {
		t.control(opPong, []byte(data))
		return nil
	})
	t.ws.SetCloseHandler(func(code int, _ string) error {
		msg := []byte{}
		if code != websocket.CloseNoStatusReceived {
			msg = websocket.FormatCloseMessage(code, "")
		}
		t.control(opClose, msg)
		return nil
	})
	t.SetWritable(true)
	transports.StartReader(t, ctx.TransportReadPermission(), t.read)
	return t
}

func (*wsTransport) Name() string          { return transports.WEBSOCKET }
func (*wsTransport) HandlesUpgrades() bool { return true }

// read passes each message to the engine until the connection ends.
func (t *wsTransport) read() {
	defer t.closeConn()
	for {
		if t.idle > 0 {
			_ = t.conn.SetReadDeadline(time.Now().Add(t.idle))
		}
		mt, r, err := t.ws.NextReader()
		if err != nil {
			t.readError(err)
			return
		}
		var data types.BufferInterface
		if mt == websocket.BinaryMessage {
			data = types.NewBytesBuffer(nil)
		} else {
			data = types.NewStringBuffer(nil)
		}
		if _, err := data.ReadFrom(r); err != nil {
			t.readError(err)
			return
		}
		t.OnData(data)
	}
}

// readError reports err unless it is the connection's normal end (as the
// library's transport does): an over-size message (gorilla's read limit is
// the engine's maxHttpBufferSize) is a transport error of this session.
func (t *wsTransport) readError(err error) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, net.ErrClosed) {
		return
	}
	t.OnError("websocket error", err)
}

// Send writes packets as one write(2) of coalesced frames.
func (t *wsTransport) Send(packets []*packet.Packet) {
	buf, ok := t.acquire()
	if !ok {
		return
	}
	start := len(*buf)
	pr, binary := t.Parser(), t.SupportsBinary()
	hold := t.cork != nil && t.cork.corked()
	for _, p := range packets {
		var err error
		if *buf, err = appendPacket(*buf, p, pr, binary); err != nil {
			*buf = (*buf)[:start]
			t.commit(buf, false, false)
			t.OnError("websocket encode", err)
			return
		}
		hold = hold && p.Options != nil && p.Options.WsPreEncodedFrame != nil
	}
	t.commit(buf, true, hold)
}

// flushHeld writes what the corker held back.
func (t *wsTransport) flushHeld() {
	t.mu.Lock()
	t.held = false
	if t.writing || t.pending == nil || t.closing {
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

// commit writes buf, or leaves it to writeLoop or to the corker (hold),
// and unlocks t.mu. drain: the engine is owed a "drain" once buf is
// written (a held buffer's at once: it is in order with the rest).
func (t *wsTransport) commit(buf *[]byte, drain, hold bool) {
	if hold && !t.writing && (t.held || t.cork.hold(t)) {
		t.pending, t.held = buf, true
		t.mu.Unlock()
		if drain {
			t.Emit("drain")
		}
		return
	}
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

// DoClose sends a close frame after what is queued and closes the
// connection (the library's transport closes it without one).
func (t *wsTransport) DoClose(fn types.Callable) {
	if buf, ok := t.acquire(); ok {
		*buf = appendFrame(*buf, opClose, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		t.closing = true
		t.commit(buf, false, false)
	}
	t.mu.Lock()
	t.closing = true
	writing := t.writing
	if writing {
		_ = t.conn.SetWriteDeadline(time.Now().Add(closeFlushTime))
	}
	t.mu.Unlock()
	if fn != nil {
		fn()
	}
	if !writing {
		t.closeConn()
	}
}

// OnClose releases what the transport holds, on every close path.
func (t *wsTransport) OnClose() {
	t.mu.Lock()
	t.closing = true
	buf := t.pending
	t.pending = nil
	t.mu.Unlock()
	t.pool.put(buf)
	t.Transport.OnClose()
	t.closeConn()
}

// closeConn closes the connection once; the WebSocketConn's "close" event
// closes the transport, whose OnClose calls back here (so no sync.Once).
func (t *wsTransport) closeConn() {
	if t.shut.CompareAndSwap(false, true) {
		_ = t.ws.Close()
	}
}
