package sockets

import (
	"net"
	"net/http"
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
	// pingDelay: a flush with a PING is written this much later; 0: at
	// once (pingWriteDelay, wswrite.go).
	pingDelay time.Duration
}

func (*wsBuilder) Name() string          { return transports.WEBSOCKET }
func (*wsBuilder) HandlesUpgrades() bool { return true }
func (*wsBuilder) UpgradesTo() []string  { return nil }

func (b *wsBuilder) New(ctx *types.HttpContext) transports.Transport {
	return newWSTransport(ctx, b)
}

// closeFlushTime bounds how long a closing transport keeps writing what it
// had queued before it closes the connection.
const closeFlushTime = 2 * time.Second

type wsTransport struct {
	transports.Transport
	conn net.Conn
	raw  syscall.RawConn // nil: every write goes through writeLoop
	idle time.Duration
	pool *bufPool
	cork *corker
	// pingDelay: see wsBuilder.
	pingDelay time.Duration
	shut      atomic.Bool // the connection is closed (closeConn)
	closed    atomic.Bool // OnClose ran
	nowFn     func(uintptr) bool
	// upgraded: the engine's context of the upgrade, until detach.
	upgraded *types.HttpContext

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
	holds   int     // BatchReplies holding the writes (wshold.go)
	now     nowWriter
}

func newWSTransport(ctx *types.HttpContext, b *wsBuilder) *wsTransport {
	wsc := ctx.Websocket
	t := &wsTransport{
		Transport: transports.MakeTransport(),
		conn:      wsc.NetConn(),
		idle:      ctx.IdleTimeout,
		pool:      &b.pool,
		cork:      b.cork,
		pingDelay: b.pingDelay,
		rd:        wsReader{limit: b.limit},
	}
	t.raw = rawConn(t.conn)
	t.nowFn, t.readFn = t.now.write, t.readNow
	t.Prototype(t)
	t.Construct(ctx)
	// While the engine initializes the transport, it may close wsc.
	_ = wsc.On("error", func(errs ...any) {
		if len(errs) > 0 {
			err, _ := errs[0].(error)
			t.OnError("websocket error", err)
		}
	})
	_ = wsc.Once("close", func(...any) { t.OnClose() })
	t.SetWritable(true)
	permission := ctx.TransportReadPermission()
	if permission != nil {
		t.upgraded = ctx
	}
	transports.StartReader(t, permission, t.read)
	return t
}

// detach lets go of gorilla's Conn (its two buffers, 2.6 KB) and the
// engine's wrapper around it. gorilla only upgraded the connection: frames
// are read by wsread.go and written by wswrite.go, straight on it. It runs
// on the reader, which the engine starts once its initialization of the
// transport is over (it sent the read permission after its last use of
// ctx.Websocket); from then on only this transport closes the connection.
func (t *wsTransport) detach() {
	if t.upgraded != nil {
		t.upgraded.Websocket = nil
		t.upgraded = nil
	}
}

func (*wsTransport) Name() string          { return transports.WEBSOCKET }
func (*wsTransport) HandlesUpgrades() bool { return true }

// OnRequest answers 400, as the engine answers any polling request after
// an upgrade: the engine hands this transport a polling GET that the
// upgrade overtook after the engine checked it (defect 20, doc.go). The
// engine also calls it with the transport's own handshake, whose
// connection gorilla has taken over: nothing is written to that one.
func (*wsTransport) OnRequest(ctx *types.HttpContext) {
	if websocket.IsWebSocketUpgrade(ctx.Request()) {
		return
	}
	ctx.ResponseHeaders().Set("Content-Type", "application/json")
	_ = ctx.SetStatusCode(http.StatusBadRequest)
	_, _ = ctx.Write([]byte(errBadRequest))
}

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

// OnClose releases what the transport holds, once, on every close path.
func (t *wsTransport) OnClose() {
	if !t.closed.CompareAndSwap(false, true) {
		return
	}
	t.mu.Lock()
	t.closing = true
	buf := t.pending
	t.pending = nil
	t.mu.Unlock()
	t.pool.put(buf)
	t.Transport.OnClose()
	t.closeConn()
}

// closeConn closes the connection once, and the transport with it.
func (t *wsTransport) closeConn() {
	if t.shut.CompareAndSwap(false, true) {
		_ = t.conn.Close()
		t.OnClose()
	}
}
