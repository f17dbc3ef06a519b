package sockets

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// guard validates Engine.IO HTTP requests before the engine sees them, to
// keep remote inputs away from defects of the v3 library (README: "Library
// issues and workarounds"):
//
// Workaround 5 (servers/engine/v3/transports/polling.go onDataRequest,
// servers/engine/v3/server.go HandleRequest): a polling POST with
// "Content-Type: application/octet-stream" on an EIO=4 session makes the
// transport report an error and return without answering or reading the
// body; HandleRequest then waits for a response that never comes, and as
// the body was never read, net/http never notices the client leaving: the
// request, its goroutines and its connection (CLOSE-WAIT) leak for good,
// and graceful shutdown waits for them. The session closes meanwhile, so
// no per-connection cap bounds them. Engine.IO v4 clients always POST text
// (binary is base64 in the payload): refused with 400.
//
// Workaround 6 (servers/engine/v3/transports/polling.go onDataRequest): a
// polling POST without Content-Length (chunked) is read through
// io.LimitReader(maxHttpBufferSize) and the truncated prefix is processed
// as if it were the whole payload, instead of being refused. Refused with
// 413 here, like a body whose Content-Length is over the limit.
//
// Workaround 8 (servers/engine/v3/transports/polling.go DoClose, onPollRequest):
// when the server closes a polling session while no GET is pending (for
// instance because the POST in flight held a bad packet), the transport
// waits for the next GET to carry the CLOSE packet, but its write queue is
// shut already: that GET hangs for the close timeout (30 s) before
// workaround 3 answers it. A GET for a session that is closing is
// answered with CLOSE ("1") here at once.
//
// Also, as hardening: a polling payload holding a packet type Engine.IO v4
// does not have is refused with 400 and its session closed, as the
// WebSocket transport does (the polling parser drops such a packet, and all
// after it, silently); JSONP polling (a "j" query parameter) is refused
// with 400: no socket.io-client 4.x uses it, and a JSONP response is a
// script that any site may include.
func guard(next http.Handler, maxBody int64, eio engine.BaseServer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if _, jsonp := q["j"]; jsonp {
			refuse(w, http.StatusBadRequest, "bad_request", "JSONP polling is not supported")
			return
		}
		sid := q.Get("sid")
		if r.Method == http.MethodGet && sid != "" && q.Get("transport") == "polling" && closing(eio, sid) {
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			_, _ = io.WriteString(w, closePacket)
			return
		}
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/octet-stream" {
			refuse(w, http.StatusBadRequest, "bad_request", "Engine.IO v4 polling payloads are text")
			return
		}
		if maxBody > 0 && r.ContentLength > maxBody {
			refuse(w, http.StatusRequestEntityTooLarge, "too_large", "body exceeds the size limit")
			return
		}
		if r.Body == nil || maxBody <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		// Buffer the payload (at most maxBody, as the engine would), so that
		// the engine gets a whole payload with its length, or nothing.
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		_ = r.Body.Close()
		if err != nil {
			refuse(w, http.StatusBadRequest, "bad_request", "could not read the body")
			return
		}
		if int64(len(b)) > maxBody {
			w.Header().Set("Connection", "close")
			refuse(w, http.StatusRequestEntityTooLarge, "too_large", "body exceeds the size limit")
			return
		}
		if !validPayload(b) {
			if s, ok := eio.Clients().Load(sid); ok && sid != "" {
				s.Close(true) // "parse error", as over WebSocket
			}
			refuse(w, http.StatusBadRequest, "bad_request", "not an Engine.IO v4 payload")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		next.ServeHTTP(w, r)
	})
}

// closing reports whether the engine is closing session sid.
func closing(eio engine.BaseServer, sid string) bool {
	s, ok := eio.Clients().Load(sid)
	return ok && s.ReadyState() == "closing"
}

// validPayload reports whether every packet of an Engine.IO v4 text
// payload (packets separated by 0x1e) starts with a v4 packet type: 0-6,
// or b for base64 data. Empty packets are skipped by the parser.
func validPayload(b []byte) bool {
	for _, p := range bytes.Split(b, []byte{0x1e}) {
		if len(p) > 0 && (p[0] < '0' || p[0] > '6') && p[0] != 'b' {
			return false
		}
	}
	return true
}

// refuse answers with the contract's JSON error.
func refuse(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// limitBinary (workaround 7) bounds binary Socket.IO packets. The v3
// parser (parsers/socket/v3/parser decoder.go, binary.go) keeps the
// attachments of a binary packet until the last one arrives, with no
// deadline and no bound but maxHttpBufferSize per frame: a client
// announcing 10 attachments and sending 9 pins up to 9 x maxHttpBufferSize
// for as long as it stays connected. Here a binary packet must arrive
// whole within timeout and, attachments included, within maxBytes (the
// contract's limit on one Socket.IO message); else its connection is closed.
// It returns what to do for each new session (see onOpened).
func limitBinary(maxBytes int64, timeout time.Duration) func(engine.Socket) {
	return func(conn engine.Socket) {
		// Close(true): at once, dropping what is queued for this client.
		// Close(false) waits for a "drain" that can fire between its check
		// of the write buffer and its listening for it, and then never closes.
		w := &binaryWatch{close: func() { conn.Close(true) }}
		// "packet" comes before the Socket.IO decoder reads the data, so
		// the header can be looked at without consuming it.
		_ = conn.On("packet", func(args ...any) {
			p, ok := args[0].(*packet.Packet)
			if !ok || p.Type != packet.MESSAGE {
				return
			}
			switch d := p.Data.(type) {
			case *types.StringBuffer:
				if n := attachments(d.Bytes()); n > 0 {
					w.start(n, int64(d.Len()), timeout)
				}
			case *types.BytesBuffer:
				w.add(int64(d.Len()), maxBytes)
			}
		})
		OnEngineClose(conn, w.stop)
	}
}

// attachments returns the attachment count of a binary Socket.IO packet
// header ("51-[...]", "61-12[...]"), or 0.
func attachments(b []byte) int {
	if len(b) < 3 || (b[0] != '5' && b[0] != '6') {
		return 0
	}
	n := 0
	for i := 1; i < len(b) && i < 4; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == '-':
			return n
		default:
			return 0
		}
	}
	return 0 // no dash within 3 digits: the parser refuses it
}

// binaryWatch is one connection's binary packet in progress.
type binaryWatch struct {
	close func()

	mu      sync.Mutex
	pending int
	size    int64
	timer   *time.Timer
}

func (w *binaryWatch) start(n int, header int64, timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.pending, w.size = n, header
	w.timer = time.AfterFunc(timeout, w.close)
}

func (w *binaryWatch) add(n, maxBytes int64) {
	w.mu.Lock()
	if w.pending == 0 {
		w.mu.Unlock()
		return // not expected: the parser refuses it
	}
	w.pending--
	w.size += n
	over := maxBytes > 0 && w.size > maxBytes
	if (w.pending == 0 || over) && w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if over {
		w.close()
	}
}

func (w *binaryWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}
