package sockets

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

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
func watchEngine(eio engine.BaseServer, polls *pendingPolls) {
	_ = eio.On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		releaseOnClose(conn.Transport())
		_ = conn.On("upgrading", func(args ...any) {
			if t, ok := args[0].(transports.Transport); ok {
				releaseOnClose(t)
			}
		})
		sid := conn.Id()
		_ = conn.Once("close", func(...any) { polls.end(sid) })
	})
}

func releaseOnClose(t transports.Transport) {
	if t == nil {
		return
	}
	// In a goroutine: "close" may fire from inside DoClose itself (a
	// server-side close), and DoClose must not be re-entered there. A second
	// DoClose after the first finished is a no-op.
	_ = t.Once("close", func(...any) { go t.DoClose(nil) })
}

// pendingPolls remembers each session's pending long-poll GETs.
type pendingPolls struct {
	mu      sync.Mutex
	pending map[string]map[*http.Request]*pendingPoll
}

type pendingPoll struct {
	cancel context.CancelFunc
	ended  atomic.Bool // by the server, not by the client going away
}

func newPendingPolls() *pendingPolls {
	return &pendingPolls{pending: map[string]map[*http.Request]*pendingPoll{}}
}

// closePacket is an Engine.IO v4 payload holding one CLOSE packet: the
// client then reports "transport close" and reconnects.
const closePacket = "1"

func (p *pendingPolls) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := r.URL.Query().Get("sid")
		if r.Method != http.MethodGet || sid == "" || r.URL.Query().Get("transport") != "polling" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		r = r.WithContext(ctx)
		poll := &pendingPoll{cancel: cancel}
		p.mu.Lock()
		if p.pending[sid] == nil {
			p.pending[sid] = map[*http.Request]*pendingPoll{}
		}
		p.pending[sid][r] = poll
		p.mu.Unlock()
		rec := &writeRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		p.mu.Lock()
		delete(p.pending[sid], r)
		if len(p.pending[sid]) == 0 {
			delete(p.pending, sid)
		}
		p.mu.Unlock()
		cancel()
		if poll.ended.Load() && !rec.wrote.Load() {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte(closePacket))
		}
	})
}

func (p *pendingPolls) end(sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, poll := range p.pending[sid] {
		poll.ended.Store(true)
		poll.cancel()
	}
}

func (p *pendingPolls) endAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, reqs := range p.pending {
		for _, poll := range reqs {
			poll.ended.Store(true)
			poll.cancel()
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
