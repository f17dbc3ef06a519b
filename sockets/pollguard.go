package sockets

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/zishang520/socket.io/servers/engine/v3"
)

// guardPolling validates Engine.IO long-polling requests before the
// engine sees them (doc.go lists the defects):
//
// Defect 6 (servers/engine/v3/transports/polling.go onDataRequest): a
// polling POST without Content-Length (chunked) is read through
// io.LimitReader(maxHttpBufferSize) and the truncated prefix is processed
// as if it were the whole payload, instead of being refused. Refused with
// 413 here, like a body whose Content-Length is over the limit.
//
// Also, as hardening: a polling payload holding a packet type Engine.IO v4
// does not have is refused with 400 and its session closed, as the
// WebSocket transport does (the polling parser drops such a packet, and all
// after it, silently); JSONP polling (a "j" query parameter) is refused
// with 400: no socket.io-client 4.x uses it, and a JSONP response is a
// script that any site may include.
func guardPolling(next http.Handler, maxBody int64, eio engine.BaseServer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, jsonp := queryLookup(r.URL.RawQuery, "j"); jsonp {
			refuse(w, http.StatusBadRequest, "bad_request", "JSONP polling is not supported")
			return
		}
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
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
			if s, ok := eio.Clients().Load(queryValue(r.URL.RawQuery, "sid")); ok {
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
