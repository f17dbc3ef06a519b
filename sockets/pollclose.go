package sockets

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// closeAfterPark makes a polling client's CLOSE end its pending GET with
// a NOOP ("6"), as Node does (engine.io-protocol and socket.io-protocol
// suites, "close: HTTP long-polling: forcefully close the session": a GET
// and a POST "1" sent together; the GET gets "6", the next GET 400).
//
// The engine answers a parked GET with that NOOP when the CLOSE arrives
// (servers/engine/v3/transports/polling.go OnClose; on v3.0.6 it is
// written, defect 3). But the GET and the POST are read on goroutines of
// their own, and the POST often reached the engine first: the session was
// gone, and the GET, sent first, got 400 "Session ID unknown" (Node reads
// them in order on one thread).
//
// So a POST whose payload holds a CLOSE packet, for a polling session
// with no GET parked, first waits (at most closeWaitGET) for a GET to be
// parked, and only then reaches the engine. The client is leaving: the
// wait costs nothing but its own POST's answer.
func closeAfterPark(eio engine.BaseServer, maxBody int64, next http.Handler) http.Handler {
	if maxBody <= 0 {
		maxBody = eio.Opts().MaxHttpBufferSize()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, ok := pollingConn(eio, r, http.MethodPost)
		if !ok || r.Body == nil {
			next.ServeHTTP(w, r)
			return
		}
		// guard has buffered and checked the body already (at most maxBody).
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		_ = r.Body.Close()
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
		if err == nil && holdsClose(b) {
			if t := conn.Transport(); t != nil && t.Name() == transports.POLLING {
				waitParked(r, t)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// pollingConn returns the open session of a polling request with the
// given method.
func pollingConn(eio engine.BaseServer, r *http.Request, method string) (engine.Socket, bool) {
	if r.Method != method {
		return nil, false
	}
	return sessionOf(eio, r)
}

// closeWaitGET bounds how long a CLOSE waits for its session's GET.
const closeWaitGET = 200 * time.Millisecond

// waitParked returns once polling transport t has a GET parked (it is
// writable), or closeWaitGET passed.
func waitParked(r *http.Request, t transports.Transport) {
	if t.Writable() {
		return
	}
	parked := make(chan struct{})
	var once sync.Once
	// A leftover listener goes with the transport: the session is closing.
	_ = t.Once("ready", func(...any) { once.Do(func() { close(parked) }) })
	if !t.Writable() {
		waitFor(r, parked, closeWaitGET)
	}
}

// waitFor reports whether ch was closed within d and before r's client left.
func waitFor(r *http.Request, ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-r.Context().Done():
	}
	return false
}

// holdsClose reports whether an Engine.IO v4 text payload holds a CLOSE
// packet.
func holdsClose(b []byte) bool {
	for _, p := range bytes.Split(b, []byte{0x1e}) {
		if len(p) > 0 && p[0] == '1' {
			return true
		}
	}
	return false
}

// errReader returns err (nil: io.EOF) once the buffered body is read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
