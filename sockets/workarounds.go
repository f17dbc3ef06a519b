package sockets

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// Workaround 1 (servers/engine/v3/transports/transport.go, websocket.go,
// polling.go): a transport's write queue, a goroutine with a 1024-slot
// buffer, is only shut down by DoClose, and Close skips DoClose once the
// transport has seen its own close (OnClose). So every connection the
// client closes leaks it. We call DoClose ourselves once a transport is
// closed; DoClose is idempotent (TryClose, net.Conn.Close).
//
// Workaround 3 (servers/engine/v3/transports/polling.go DoClose): closing a
// polling transport shuts its write queue before queueing the CLOSE packet,
// so a pending long-poll GET is never answered and the client only notices
// at its ping timeout. We cancel the request context of that GET when the
// engine socket closes, which ends the response.
//
// Workaround 14 (servers/engine/v3/transports/polling.go onPollRequest,
// pkg/types/http-context.go closeWithError): onPollRequest publishes a GET
// (p.req.Store) before it assigns ctx.Cleanup, which the context's watcher
// goroutine reads as soon as the request context ends. A cancel in that
// window, ours at a session close or net/http's when the client leaves,
// is a data race on the engine's own field. So the engine gets a context
// of our own: it ends when the client leaves or the session ends, but only
// once the engine has parked the GET (its transport emitted "ready", after
// the assignment), or after armTimeout for a GET the engine never parks.
//
// watchEngine returns what to do for each new session (see onOpened).
func watchEngine(eio engine.BaseServer, polls *pendingPolls) func(engine.Socket) {
	_ = eio.On("connection", func(args ...any) {
		if conn, ok := args[0].(engine.Socket); ok {
			forgetClosed(eio, conn) // sessions.go: workaround 15
		}
	})
	return func(conn engine.Socket) {
		t := conn.Transport()
		releaseOnClose(t)
		_ = conn.On("upgrading", func(args ...any) {
			if t, ok := args[0].(transports.Transport); ok {
				releaseOnClose(t)
			}
		})
		sid := conn.Id()
		OnEngineClose(conn, func() { polls.end(sid) })
		if t != nil && t.Name() == transports.POLLING {
			polls.hook(sid, t)
			if ctx := conn.Request(); ctx != nil {
				polls.adopt(ctx.Request(), sid)
			}
		}
	}
}

func releaseOnClose(t transports.Transport) {
	if t == nil {
		return
	}
	// In a goroutine: "close" may fire from inside DoClose itself (a
	// server-side close), and DoClose must not be re-entered there. A second
	// DoClose after the first finished is a no-op.
	onClosed(t, func() { go t.DoClose(nil) })
}

// pendingPolls remembers each session's pending long-poll GETs.
type pendingPolls struct {
	mu      sync.Mutex
	pending map[string]map[*http.Request]*pendingPoll
	// Handshake GETs, until their session opens and adopts them.
	handshakes map[*http.Request]*pendingPoll
}

// armTimeout bounds how long a GET's end may wait for the engine to park
// it: parking takes microseconds, and a GET the engine never parks (a
// polling GET racing an upgrade) must still end.
const armTimeout = 5 * time.Second

// pendingPoll is one long-poll GET held by the engine.
type pendingPoll struct {
	ended atomic.Bool // by the server, not by the client going away
	rec   *writeRecorder

	// Set under pendingPolls.mu: the session, once known (workaround 16).
	sid     string
	drained chan struct{} // closed when the engine is done with the GET
	drainOK bool          // drained is closed

	mu       sync.Mutex
	cancel   context.CancelFunc
	armed    bool // the engine has parked the GET: cancelling is safe
	due      bool // the GET must end
	fallback *time.Timer
}

// arm notes that the engine has parked the GET, and ends it if due.
func (p *pendingPoll) arm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.armed {
		return
	}
	p.armed = true
	if p.due {
		p.cancel()
	}
}

// stop ends the GET as soon as that is safe (workaround 14).
func (p *pendingPoll) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.due = true
	if p.armed {
		p.cancel()
		return
	}
	if p.fallback == nil {
		p.fallback = time.AfterFunc(armTimeout, p.cancel)
	}
}

func (p *pendingPoll) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fallback != nil {
		p.fallback.Stop()
	}
	p.cancel()
}

func newPendingPolls() *pendingPolls {
	return &pendingPolls{
		pending:    map[string]map[*http.Request]*pendingPoll{},
		handshakes: map[*http.Request]*pendingPoll{},
	}
}

// hook makes polling transport t of session sid arm its GETs once parked,
// and tell when the engine is done with an answered one.
func (p *pendingPolls) hook(sid string, t transports.Transport) {
	_ = t.On("ready", func(...any) { p.arm(sid) })
	_ = t.On("drain", func(...any) { p.drained(sid) })
}

// adopt files the handshake GET r under its session sid.
func (p *pendingPolls) adopt(r *http.Request, sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	poll, ok := p.handshakes[r]
	if !ok {
		return
	}
	delete(p.handshakes, r)
	poll.sid = sid
	p.add(sid, r, poll)
}

// add files poll under sid; p.mu is held.
func (p *pendingPolls) add(sid string, r *http.Request, poll *pendingPoll) {
	if p.pending[sid] == nil {
		p.pending[sid] = map[*http.Request]*pendingPoll{}
	}
	p.pending[sid][r] = poll
}

// remove forgets poll; p.mu is held.
func (p *pendingPolls) remove(r *http.Request, poll *pendingPoll) {
	delete(p.handshakes, r)
	if poll.sid == "" {
		return
	}
	delete(p.pending[poll.sid], r)
	if len(p.pending[poll.sid]) == 0 {
		delete(p.pending, poll.sid)
	}
}

// drained notes that the engine is done with session sid's answered GET:
// the transport emits "drain" after the write and its cleanup.
func (p *pendingPolls) drained(sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, poll := range p.pending[sid] {
		if poll.rec.wrote.Load() && !poll.drainOK {
			poll.drainOK = true
			close(poll.drained)
		}
	}
}

// drainTimeout bounds the wait for "drain" (workaround 16); it comes
// microseconds after the write.
const drainTimeout = time.Second

// closePacket is an Engine.IO v4 payload holding one CLOSE packet: the
// client then reports "transport close" and reconnects.
const closePacket = "1"

// wrap tracks each long-poll GET (workarounds 3, 14 and 16).
//
// Workaround 16 (servers/engine/v3/transports/polling.go onPollRequest,
// pkg/types/http-context.go closeWithError): once a GET is answered, the
// engine ends the request (close(done)) and only then runs its cleanup,
// which clears the transport's current GET (p.req.Store(nil)). When the
// writing goroutine is slow, the client has its answer, sends its next GET,
// and that GET is cleared by the previous one's cleanup: the next write
// finds no GET ("polling write error") and the session dies. Seen under
// load, mostly right after the handshake. So an answered GET's response
// is held until the transport's "drain", which follows the cleanup.
func (p *pendingPolls) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("transport") != "polling" {
			next.ServeHTTP(w, r)
			return
		}
		sid := q.Get("sid")
		// Not cancelled by net/http: the client leaving reaches the engine
		// through poll.stop (workaround 14).
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		poll := &pendingPoll{cancel: cancel, rec: &writeRecorder{ResponseWriter: w}, sid: sid, drained: make(chan struct{})}
		clientGone := context.AfterFunc(r.Context(), poll.stop)
		r = r.WithContext(ctx)
		p.mu.Lock()
		if sid == "" {
			p.handshakes[r] = poll // adopted once its session opens
		} else {
			p.add(sid, r, poll)
		}
		p.mu.Unlock()
		next.ServeHTTP(poll.rec, r)
		clientGone()
		p.mu.Lock()
		adopted := poll.sid != ""
		p.mu.Unlock()
		if adopted && poll.rec.wrote.Load() {
			t := time.NewTimer(drainTimeout)
			select {
			case <-poll.drained:
			case <-t.C:
			}
			t.Stop()
		}
		p.mu.Lock()
		p.remove(r, poll)
		p.mu.Unlock()
		poll.release()
		if poll.ended.Load() && !poll.rec.wrote.Load() {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte(closePacket))
		}
	})
}

// arm marks session sid's pending GETs as parked by the engine. The engine
// holds one at a time; a second is refused ("overlap") and answered at
// once, so arming it too is harmless.
func (p *pendingPolls) arm(sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, poll := range p.pending[sid] {
		poll.arm()
	}
}

func (p *pendingPolls) end(sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, poll := range p.pending[sid] {
		poll.ended.Store(true)
		poll.stop()
	}
}

func (p *pendingPolls) endAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, reqs := range p.pending {
		for _, poll := range reqs {
			poll.ended.Store(true)
			poll.stop()
		}
	}
}

// writeRecorder notes whether the engine answered the request itself.
type writeRecorder struct {
	http.ResponseWriter
	wrote atomic.Bool
}

func (w *writeRecorder) WriteHeader(code int) {
	w.wrote.Store(true)
	w.ResponseWriter.WriteHeader(code)
}

func (w *writeRecorder) Write(b []byte) (int, error) {
	w.wrote.Store(true)
	return w.ResponseWriter.Write(b)
}

func (w *writeRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
