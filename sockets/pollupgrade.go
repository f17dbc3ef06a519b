package sockets

import (
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// refuseOvertaken answers 400 to a polling GET that the session's upgrade
// overtook, as Node does (socket.io-protocol and engine.io-protocol suites,
// "upgrade: ignore HTTP requests with same sid after upgrade": a client
// sends "2probe" and "5" on its WebSocket, then a GET).
//
// Node reads the WebSocket frames first, so the GET finds the session on
// WebSocket and gets 400. Here the frames and the GET are read on
// goroutines of their own (servers/engine/v3 socket.go MaybeUpgrade), and
// the GET is often parked first; the upgrade then discards the polling
// transport, whose close answers that GET 200 with a CLOSE packet ("1").
// So a GET answered after its session upgraded gets, instead of that
// CLOSE, the 400 the engine gives a GET that comes after the upgrade.
//
// Nothing waits before the engine: a stock client sends "5" only once its
// pending GET is answered (engine.io-client Polling.pause), so its GETs are
// always answered before the upgrade and pass through untouched. (The
// withdrawn upgradewait.go held GETs until the upgrade; a GET released as
// the engine's upgrade check fired was written to twice, the second write
// failed and closed the session: defect 19.)
//
// Any answer given after the upgrade first waits, at most upgradeGrace,
// until the WebSocket has written what it was writing (the "3probe"): Node
// writes it before it reads "5", and a client reading its WebSocket after
// this answer must find the probe answer there already.
func refuseOvertaken(eio engine.BaseServer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if conn, ok := pollingConn(eio, r, http.MethodGet); ok {
			w = &overtakenWriter{ResponseWriter: w, conn: conn}
		}
		next.ServeHTTP(w, r)
	})
}

// upgradeGrace bounds the wait for the WebSocket's pending write.
const upgradeGrace = engine.DefaultUpgradeCheckInterval

// overtakenWriter is a polling GET's writer. The engine writes a response
// once: WriteHeader, then Write (pkg/types HttpContext.Write).
type overtakenWriter struct {
	http.ResponseWriter
	conn   engine.Socket
	status int // held by WriteHeader when the session has upgraded
}

func (o *overtakenWriter) WriteHeader(code int) {
	if o.conn.Upgraded() {
		o.status = code
		return
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *overtakenWriter) Write(b []byte) (int, error) {
	if o.status == 0 {
		return o.ResponseWriter.Write(b)
	}
	status, body := afterUpgrade(o.conn, o.status, b)
	if status != o.status {
		o.ResponseWriter.Header().Set("Content-Type", "application/json")
	}
	o.ResponseWriter.WriteHeader(status)
	if _, err := o.ResponseWriter.Write(body); err != nil {
		return 0, err
	}
	return len(b), nil
}

// afterUpgrade is the answer to a polling GET of conn's given once conn
// has upgraded. It first waits, at most upgradeGrace, for the WebSocket's
// pending write; the discarded transport's CLOSE ("1") becomes the 400
// the engine answers a GET after the upgrade (server.go verify,
// BAD_REQUEST); any other answer stays.
func afterUpgrade(conn engine.Socket, status int, body []byte) (int, []byte) {
	waitWebSocketWritten(conn, upgradeGrace)
	if status == http.StatusOK && string(body) == "1" {
		return http.StatusBadRequest, []byte(errBadRequest)
	}
	return status, body
}

// waitWebSocketWritten waits, at most d, until conn is on its new transport
// and that transport has written what it was writing ("ready" follows each
// write, once it is writable again). The polling transport's close may
// answer before the engine switches.
func waitWebSocketWritten(conn engine.Socket, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	t := conn.Transport()
	if t == nil || t.Name() == transports.POLLING {
		switched := make(chan struct{})
		var once sync.Once
		// A session upgrades once; a listener left here goes with it.
		_ = conn.Once("upgrade", func(...any) { once.Do(func() { close(switched) }) })
		if t = conn.Transport(); t == nil || t.Name() == transports.POLLING {
			select {
			case <-switched:
			case <-timer.C:
				return
			}
			if t = conn.Transport(); t == nil {
				return
			}
		}
	}
	if t.Writable() {
		return
	}
	written := make(chan struct{})
	var once sync.Once
	_ = t.Once("ready", func(...any) { once.Do(func() { close(written) }) })
	if t.Writable() {
		return
	}
	select {
	case <-written:
	case <-timer.C:
	}
}
