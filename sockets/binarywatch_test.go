package sockets

import (
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Defect 7: a binary packet must arrive whole, in time and within the
// size limit, or its connection is closed; a proper one is handled and the
// connection stays.
func TestLimitBinary(t *testing.T) {
	// dial connects to a server of its own whose binary packets must
	// arrive whole within timeout.
	dial := func(t *testing.T, timeout time.Duration) *websocket.Conn {
		s := New(Config{Transports: []string{"websocket"}, MaxMessageBytes: 4096, ConnectTimeout: 10 * time.Second,
			BinaryTimeout: timeout})
		srv := httptest.NewServer(s)
		t.Cleanup(func() { closeWithin(t, srv, s) })
		// Up to three tries: a CONNECT lost on a busy machine would be
		// retried by a real client too.
		for try := 1; ; try++ {
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, open, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
				t.Fatalf("open: %q %v", open, err)
			}
			if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(time.Second))
			_, ok, err := ws.ReadMessage()
			if err == nil && strings.HasPrefix(string(ok), "40{") {
				return ws
			}
			ws.Close()
			if try == 3 {
				t.Fatalf("connect: %q %v", ok, err)
			}
		}
	}
	// closedWithin reports whether the server closed ws before the deadline.
	closedWithin := func(ws *websocket.Conn, d time.Duration) bool {
		_ = ws.SetReadDeadline(time.Now().Add(d))
		for {
			_, _, err := ws.ReadMessage()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return false
			}
			if err != nil {
				return true
			}
		}
	}
	one := `451-["x",{"_placeholder":true,"num":0}]`

	t.Run("10 attachments announced: over the decoder limit, closed at once", func(t *testing.T) {
		ws := dial(t, time.Hour) // only the parser's limit (parser.go) can close it
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`4510-["x",{"_placeholder":true,"num":0}]`))
		if !closedWithin(ws, 5*time.Second) {
			t.Fatal("still open after announcing 10 attachments, over the limit of 1")
		}
	})
	t.Run("an announced attachment never sent: closed at the deadline", func(t *testing.T) {
		ws := dial(t, 300*time.Millisecond)
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(one))
		start := time.Now()
		if !closedWithin(ws, 5*time.Second) {
			t.Fatal("still open 5 s after an unfinished binary packet")
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("closed after %v, before the deadline", d)
		}
	})
	t.Run("attachments over the message limit: closed at once", func(t *testing.T) {
		ws := dial(t, time.Hour) // only the size can close it
		defer ws.Close()
		header := `451-["x","` + strings.Repeat("a", 3000) + `",{"_placeholder":true,"num":0}]`
		_ = ws.WriteMessage(websocket.TextMessage, []byte(header))
		_ = ws.WriteMessage(websocket.BinaryMessage, make([]byte, 2000))
		if !closedWithin(ws, 5*time.Second) {
			t.Fatal("a 5 KB binary packet over a 4 KB limit: still open")
		}
	})
	t.Run("a whole binary packet in time: handled, the connection stays", func(t *testing.T) {
		ws := dial(t, 300*time.Millisecond)
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(one))
		_ = ws.WriteMessage(websocket.BinaryMessage, make([]byte, 1000))
		if closedWithin(ws, time.Second) {
			t.Fatal("closed after a proper binary packet")
		}
	})
}
