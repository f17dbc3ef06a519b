package sockets

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

// A client that answers each PING at once keeps its session (defect 18;
// protocol suites, "heartbeat: should send ping/pong packets"). The engine
// arms the ping timeout after it has written the PING; here every PING's
// flush is followed by a 30 ms pause on the engine's timer goroutine (as a
// busy machine's scheduler does now and then), so that each PONG is read
// before the timer is set. The ping interval is longer than the timeout,
// as in the suites: a shorter interval's next PING re-arms the timer in
// time and hides the defect. Without pongAfterPingTimer every session was
// closed pingTimeout after its first PING (10 of 10).
func TestPongRightAfterPing(t *testing.T) {
	s := New(Config{
		Transports:     []string{"websocket"},
		ConnectTimeout: 10 * time.Second,
		PingInterval:   200 * time.Millisecond,
		PingTimeout:    100 * time.Millisecond,
	})
	// The pause: "flush" carries the packets, "drain" follows their write.
	onOpened(s.IO.Engine(), func(conn engine.Socket) {
		var mu sync.Mutex
		ping := false
		_ = conn.On("flush", func(args ...any) {
			ps, _ := args[0].([]*packet.Packet)
			mu.Lock()
			defer mu.Unlock()
			ping = false
			for _, p := range ps {
				ping = ping || p.Type == packet.PING
			}
		})
		_ = conn.On("drain", func(...any) {
			mu.Lock()
			p := ping
			mu.Unlock()
			if p {
				time.Sleep(30 * time.Millisecond)
			}
		})
	})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	const sessions, pings = 10, 4
	var wg sync.WaitGroup
	errs := make(chan string, sessions)
	for range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, b, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(b), "0{") {
				errs <- "no OPEN packet"
				return
			}
			for i := range pings {
				_, b, err := ws.ReadMessage()
				if err != nil {
					errs <- "session closed after " + string(rune('0'+i)) + " pings: " + err.Error()
					return
				}
				if string(b) != "2" {
					errs <- "read " + string(b) + ", want 2"
					return
				}
				if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
					errs <- err.Error()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 3 {
			t.Error(e)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d sessions failed", n, sessions)
	}
}
