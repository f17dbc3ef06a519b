package sockets

import (
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// sealWrites is workaround 10 (servers/engine/v3/server.go HandleRequest,
// servers/engine/v3/transports/polling.go DoWrite and DoClose,
// pkg/types/http-context.go):
//
//   - HandleRequest returns as soon as the request's context ends (the
//     client went away, or workaround 3 ended a parked GET), while the
//     polling transport's write goroutine may be writing that very
//     response; net/http then finishes it (and workaround 3 may answer it)
//     at the same time, on the same header map and ResponseWriter;
//   - a POST in flight when its transport closes is answered twice at once:
//     by DoClose ("429") and by the POST handler itself ("ok"), each setting
//     headers on the one map, one through a locked ParameterBag, the other
//     directly.
//
// Either way two goroutines write one map: "fatal error: concurrent map
// writes", which no recover catches. A polling client closing while the
// server sends to it could kill the process.
//
// Here the engine writes polling responses through a writer of our own:
// Header() hands out a fresh map on each call, so no two goroutines ever
// share one (the engine's own headers are dropped; the few a polling
// response needs are set here); writes are serialized; and once the engine
// handler has returned, late writes are dropped (that request is over: its
// client left, or its session closed). WebSocket upgrades pass through.
func sealWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		sw := &sealedWriter{w: w}
		defer sw.seal()
		next.ServeHTTP(sw, r)
	})
}

var errSealed = errors.New("response already finished")

// sealedWriter is a ResponseWriter the engine may use from any goroutine,
// even after its handler returned, harmlessly.
type sealedWriter struct {
	w http.ResponseWriter

	mu     sync.Mutex
	status int // set by WriteHeader, sent with the first Write
	sealed bool
	wrote  bool
}

// Header returns a map no one else sees (see sealWrites).
func (s *sealedWriter) Header() http.Header { return http.Header{} }

func (s *sealedWriter) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sealed && !s.wrote && s.status == 0 {
		s.status = code
	}
}

// send writes the status line and headers; s.mu is held.
func (s *sealedWriter) send(body []byte) {
	if s.wrote {
		return
	}
	s.wrote = true
	status := s.status
	if status == 0 {
		status = http.StatusOK
	}
	setPollHeaders(s.w.Header(), status, body)
	s.w.WriteHeader(status)
}

func (s *sealedWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed || s.wrote {
		// The engine writes each response once; a second writer lost the race.
		return 0, errSealed
	}
	s.send(b)
	return s.w.Write(b)
}

func (s *sealedWriter) seal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 && !s.wrote {
		s.send(nil)
	}
	s.sealed = true
}
