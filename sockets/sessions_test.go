package sockets

import (
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

// Workaround 15: per-session listeners are added before the client can
// have its OPEN packet, so no packet of the client's passes them by (over
// WebSocket the engine writes the OPEN packet before it emits
// "connection"). Here the per-session function holds the handshake: the
// OPEN packet must not reach the client until it returns, and it runs once
// per session however many flushes follow.
func TestOnOpenedRunsBeforeTheClientHasOpen(t *testing.T) {
	s := New(Config{Transports: []string{"websocket"}, MaxMessageBytes: 4096, ConnectTimeout: 10 * time.Second})
	release := make(chan struct{})
	var opened atomic.Int32
	onOpened(s.IO.Engine(), func(engine.Socket) {
		if opened.Add(1) == 1 {
			<-release
		}
	})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	got := make(chan string, 4)
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			got <- string(b)
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); opened.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no session opened within 5 s")
		}
		time.Sleep(time.Millisecond) // poll interval of a deadline wait
	}
	// An absence: while the function holds, no OPEN may arrive. (Added at
	// "connection" instead, it arrives within milliseconds.)
	select {
	case b := <-got:
		t.Fatalf("the client had its OPEN packet (%q) before the per-session listeners returned", b)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	next := func(within time.Duration) (string, bool) {
		select {
		case b := <-got:
			return b, true
		case <-time.After(within):
			return "", false
		}
	}
	if open, ok := next(5 * time.Second); !ok || !strings.HasPrefix(open, "0{") {
		t.Fatalf("handshake answer %q, want an OPEN packet", open)
	}
	// More flushes of the same session (the CONNECT reply) run nothing more.
	// The CONNECT is sent again on the same session if its reply does not
	// come: the library may drop a CONNECT that arrives right after the
	// OPEN packet (sockets/doc.go, defect 2).
	for try := 1; ; try++ {
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		reply, ok := next(2 * time.Second)
		if ok && strings.HasPrefix(reply, "40{") {
			break
		}
		if ok || try == 3 {
			t.Fatalf("CONNECT reply %q (try %d)", reply, try)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Fatalf("per-session function ran %d times for one session", n)
	}
}
