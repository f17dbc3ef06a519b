package sockets

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
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
	pool  bufPool
	cork  *corker // wscork.go; nil: nothing is held
	limit int64   // the engine's maxHttpBufferSize: the largest message read
}

func (*wsBuilder) Name() string          { return transports.WEBSOCKET }
func (*wsBuilder) HandlesUpgrades() bool { return true }
func (*wsBuilder) UpgradesTo() []string  { return nil }

func (b *wsBuilder) New(ctx *types.HttpContext) transports.Transport {
	return newWSTransport(ctx, &b.pool, b.cork, b.limit)
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

	rd      wsReader // wsread.go
	readFn  func(uintptr) bool
	readErr error

	mu      sync.Mutex
	pending *[]byte // frames not yet written (writing, or held)
	off     int     // bytes of *pending already written
	writing bool    // writeLoop owns the connection's write side
	drains  int     // Sends written by writeLoop whose "drain" is owed
	closing bool    // no more frames; close once pending is written
	held    bool    // in the corker's list
	now     nowWriter
}

func newWSTransport(ctx *types.HttpContext, pool *bufPool, cork *corker, limit int64) *wsTransport {
	t := &wsTransport{
		Transport: transports.MakeTransport(),
		ws:        ctx.Websocket,
		conn:      ctx.Websocket.NetConn(),
		idle:      ctx.IdleTimeout,
		pool:      pool,
		cork:      cork,
		rd:        wsReader{limit: limit},
	}
	t.raw = rawConn(t.conn)
	t.nowFn, t.readFn = t.now.write, t.readNow
	t.Prototype(t)
	t.Construct(ctx)
	_ = t.ws.On("error", func(errs ...any) {
		if len(errs) > 0 {
			err, _ := errs[0].(error)
			t.OnError("websocket error", err)
		}
	})
	_ = t.ws.Once("close", func(...any) { t.OnClose() })
	// gorilla only upgraded the connection: frames are read by wsread.go
	// and written by wswrite.go, straight on the connection.
	t.SetWritable(true)
	transports.StartReader(t, ctx.TransportReadPermission(), t.read)
	return t
}

func (*wsTransport) Name() string          { return transports.WEBSOCKET }
func (*wsTransport) HandlesUpgrades() bool { return true }

// DoClose sends a close frame after what is queued and closes the
// connection (the library's transport closes it without one).
func (t *wsTransport) DoClose(fn types.Callable) {
	writing := t.queueClose(websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if fn != nil {
		fn()
	}
	if !writing {
		t.closeConn()
	}
}

// shutWrite sends a close frame with payload after what is queued, then
// closes the connection.
func (t *wsTransport) shutWrite(payload []byte) {
	if !t.queueClose(payload) {
		t.closeConn()
	}
}

// queueClose queues the last frame, a close frame with payload; writing:
// writeLoop still writes, and closes the connection when it is done (in
// closeFlushTime at most).
func (t *wsTransport) queueClose(payload []byte) (writing bool) {
	if buf, ok := t.acquire(); ok {
		*buf = appendFrame(*buf, opClose, payload)
		t.closing = true
		t.commit(buf, false, false)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	if t.writing {
		_ = t.conn.SetWriteDeadline(time.Now().Add(closeFlushTime))
	}
	return t.writing
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
