package sockets

import (
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// pollBuilder makes ordercast's own long-polling transport, plugged into
// the engine through its exported transport API, as wsBuilder does for
// WebSocket. The library's transport, per response: a goroutine started by
// its write queue, an HttpContext with its emitter and close goroutine, the
// engine's middlewares and checks, and the URL's query parsed by each.
// This one is handed a session's requests by servePolling (pollserve.go)
// straight from net/http, and answers a parked GET from the goroutine of
// its handler, which the sender wakes with the encoded payload.
type pollBuilder struct{}

func (*pollBuilder) Name() string          { return transports.POLLING }
func (*pollBuilder) HandlesUpgrades() bool { return false }
func (*pollBuilder) UpgradesTo() []string  { return []string{transports.WEBSOCKET} }

func (*pollBuilder) New(ctx *types.HttpContext) transports.Transport {
	t := &pollTransport{Transport: transports.MakeTransport()}
	t.Prototype(t)
	t.Construct(ctx)
	return t
}

// pollCloseTimeout bounds how long a closing session waits for a GET to
// carry its CLOSE packet (the library's default).
const pollCloseTimeout = transports.DefaultPollingCloseTimeout

// pollTransport is one session's long-polling transport. Writable (the
// engine's flag) is true exactly while a GET is parked and not yet taken.
type pollTransport struct {
	transports.Transport

	mu      sync.Mutex
	get     *pollGET // the parked GET
	posting bool     // a POST is being read
	// kept: packets of Sends that found no GET (the engine's upgrade check
	// and a flush can both send to one parked GET: defect 19), answered to
	// the next GET; keptDrains: the "drain" each of those Sends is owed.
	kept       []*packet.Packet
	keptDrains int
	// closeFn: an orderly close that waits for a GET to carry its CLOSE.
	closeFn    func()
	closeTimer *time.Timer
}

// pollGET is a parked GET: the engine's context (the handshake, answered
// from the sender's goroutine), or a handler of servePolling waiting for
// ready.
type pollGET struct {
	ctx    *types.HttpContext
	ready  chan struct{}
	body   []byte
	drains int
}

func (*pollTransport) Name() string          { return transports.POLLING }
func (*pollTransport) HandlesUpgrades() bool { return false }

// OnRequest serves a request the engine hands over: the handshake's GET,
// and any request servePolling did not take.
func (t *pollTransport) OnRequest(ctx *types.HttpContext) {
	switch ctx.Method() {
	case http.MethodGet:
		g := &pollGET{ctx: ctx}
		_ = ctx.Once("close", func(args ...any) {
			if len(args) > 0 && args[0] != nil { // the client left
				t.abandon(g)
			}
		})
		if status, body := t.park(g); status != 0 {
			_, _ = writeCtx(ctx, status, body)
		}
	case http.MethodPost:
		status, answer := t.readPost(ctx.Request())
		_, _ = writeCtx(ctx, status, answer)
	default:
		_, _ = writeCtx(ctx, http.StatusBadRequest, []byte(errBadRequest))
	}
}

// The engine's answers, as it words them.
const (
	errBadRequest = `{"code":3,"message":"Bad request"}`
	errUnknownSID = `{"code":1,"message":"Session ID unknown"}`
	answerOK      = "ok"
)

// park parks g, or answers it at once (status not 0): with what Sends
// kept, or 400 when the session has moved on.
func (t *pollTransport) park(g *pollGET) (status int, body []byte) {
	t.mu.Lock()
	switch {
	case t.ReadyState() == "closed":
		t.mu.Unlock()
		return http.StatusBadRequest, []byte(errUnknownSID)
	case t.Discarded():
		t.mu.Unlock()
		return http.StatusBadRequest, []byte(errBadRequest)
	case t.get != nil:
		t.mu.Unlock()
		t.OnError("overlap from client", nil)
		return http.StatusBadRequest, []byte(errBadRequest)
	case len(t.kept) > 0:
		packets, drains, closeFn := t.takeLocked(nil)
		t.mu.Unlock()
		g.drains = drains
		t.answer(g, packets, closeFn)
		return 0, nil
	}
	t.get = g
	t.SetWritable(true)
	closing := t.closeFn != nil
	t.mu.Unlock()
	t.Emit("ready") // the engine's socket flushes what it buffered
	if closing && t.Writable() {
		t.Send([]*packet.Packet{{Type: packet.NOOP}}) // carries the CLOSE
	}
	return 0, nil
}

// Send answers the parked GET with packets, after any kept ones; with no
// GET parked, it keeps them for the next.
func (t *pollTransport) Send(packets []*packet.Packet) {
	t.mu.Lock()
	t.SetWritable(false)
	g := t.get
	if g == nil {
		t.kept = append(t.kept, packets...)
		t.keptDrains++
		t.mu.Unlock()
		return
	}
	t.get = nil
	packets, drains, closeFn := t.takeLocked(packets)
	t.mu.Unlock()
	g.drains = drains + 1
	t.answer(g, packets, closeFn)
}

// takeLocked returns the kept packets followed by packets, the drains they
// owe, and the pending close, whose CLOSE packet it appends.
func (t *pollTransport) takeLocked(packets []*packet.Packet) ([]*packet.Packet, int, func()) {
	if len(t.kept) > 0 {
		packets = append(t.kept, packets...)
	}
	drains := t.keptDrains
	t.kept, t.keptDrains = nil, 0
	closeFn := t.closeFn
	t.closeFn = nil
	if closeFn != nil {
		packets = append(packets, &packet.Packet{Type: packet.CLOSE})
	}
	return packets, drains, closeFn
}

// answer encodes packets for g and hands them over; closeFn, if any, runs
// once they are.
func (t *pollTransport) answer(g *pollGET, packets []*packet.Packet, closeFn func()) {
	body, err := encodePayload(packets, t.Parser())
	if err != nil {
		t.OnError("polling encode error", err)
		body = nil
	}
	g.body = body
	if g.ctx != nil {
		if _, err := writeCtx(g.ctx, http.StatusOK, body); err != nil {
			t.OnError("polling write error", err)
		} else {
			t.drained(g.drains)
		}
	} else {
		close(g.ready)
	}
	if closeFn != nil {
		closeFn()
	}
}

// drained emits the "drain" the engine's socket counts for each Send
// written.
func (t *pollTransport) drained(n int) {
	for range n {
		t.Emit("drain")
	}
}

// abandon forgets g if it is still parked: its client left, and so the
// session ends (as with the library's transport: a successor is refused).
func (t *pollTransport) abandon(g *pollGET) bool {
	t.mu.Lock()
	if t.get != g {
		t.mu.Unlock()
		return false
	}
	t.get = nil
	t.SetWritable(false)
	t.Discard()
	t.mu.Unlock()
	t.OnError("poll connection closed prematurely", nil)
	return true
}

// post handles a POST's payload and returns the answer.
func (t *pollTransport) post(body []byte) (int, []byte) {
	t.mu.Lock()
	if t.posting {
		t.mu.Unlock()
		t.OnError("data request overlap from client", nil)
		return http.StatusBadRequest, []byte(errBadRequest)
	}
	t.posting = true
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.posting = false
		t.mu.Unlock()
	}()
	packets, _ := t.Parser().DecodePayload(types.NewStringBuffer(body))
	for _, p := range packets {
		if p.Type == packet.CLOSE {
			t.OnClose()
			break
		}
		t.OnPacket(p)
	}
	return http.StatusOK, []byte(answerOK)
}

// DoClose sends a CLOSE: at once to a parked GET, else with the next GET
// (within pollCloseTimeout); a discarded transport closes right away.
func (t *pollTransport) DoClose(fn types.Callable) {
	var once sync.Once
	onClose := func() {
		once.Do(func() {
			if fn != nil {
				fn()
			}
			t.OnClose()
		})
	}
	t.mu.Lock()
	if t.get == nil && !t.Discarded() {
		t.closeFn = onClose
		t.closeTimer = time.AfterFunc(pollCloseTimeout, onClose)
		t.mu.Unlock()
		return
	}
	parked := t.get != nil
	t.mu.Unlock()
	if parked {
		t.Send([]*packet.Packet{{Type: packet.CLOSE}})
	}
	onClose()
}

// OnClose answers a parked GET (a NOOP) and closes the transport.
func (t *pollTransport) OnClose() {
	if t.Writable() {
		t.Send([]*packet.Packet{{Type: packet.NOOP}})
	}
	t.mu.Lock()
	if t.closeTimer != nil {
		t.closeTimer.Stop()
	}
	t.kept, t.keptDrains = nil, 0
	t.mu.Unlock()
	t.Transport.OnClose()
}

// encodePayload encodes an Engine.IO v4 polling payload: packets separated
// by 0x1e, text packets copied once from their buffer (shared by every
// recipient, sharedtext.go, so it is never read, only looked at).
func encodePayload(packets []*packet.Packet, pr parser.Parser) ([]byte, error) {
	n := 0
	for _, p := range packets {
		if d, ok := textBytes(p.Data); ok {
			n += len(d)
		}
		n += 2
	}
	b := make([]byte, 0, n)
	for i, p := range packets {
		if i > 0 {
			b = append(b, 0x1e)
		}
		if c, ok := engineTypeByte(p.Type); ok && pr.Protocol() == 4 {
			if p.Data == nil {
				b = append(b, c)
				continue
			}
			if d, ok := textBytes(p.Data); ok {
				b = append(append(b, c), d...)
				continue
			}
		}
		data, err := pr.EncodePacket(forParser(p), false)
		if err != nil {
			return nil, err
		}
		b = append(b, data.Bytes()...)
	}
	return b, nil
}

// writeCtx answers an engine's request: status and body, with the headers
// of a polling response (sealwriter.go sets them on the wire).
func writeCtx(ctx *types.HttpContext, status int, body []byte) (int, error) {
	_ = ctx.SetStatusCode(status)
	return ctx.Write(body)
}
