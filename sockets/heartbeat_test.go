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

// Defect 18: the engine writes a PING before it arms that PING's timeout
// (servers/engine/v3 socket.go schedulePing, resetPingTimeout). A PONG read
// in between clears nothing, and the timer armed after it closes the
// session ("ping timeout") unless the next PING, pingInterval after the
// PONG, clears it first: only when pingTimeout > pingInterval. The race is
// made certain here: the goroutine that wrote the first PING is held (in
// the engine's "drain", emitted after the write and before the timer is
// armed) until the PONG has been read.
//
// The hold also stalls the engine's handling of the PONG, so it shows the
// defect whatever the transport does; TestFastPongs shows ordercast's
// transport keeping a fast client out of it.
func TestPongBeforeItsPingTimeout(t *testing.T) {
	tests := []struct {
		name              string
		interval, timeout time.Duration
		survives          bool
	}{
		// ordercast's defaults have this shape (options).
		{"pingTimeout > pingInterval: survives", 100 * time.Millisecond, 500 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Transports: []string{"websocket"}, ConnectTimeout: time.Minute,
				PingInterval: tt.interval, PingTimeout: tt.timeout})
			srv := httptest.NewServer(s)
			defer closeWithin(t, srv, s)
			holdFirstPing(s.IO.Engine())

			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			// Answer 5 PINGs; the session must stay open for them.
			pongs := answerPings(ws, 5, time.Now().Add(10*(tt.interval+tt.timeout)))
			if survived := pongs == 5; survived != tt.survives {
				t.Fatalf("answered %d PINGs before the session closed; want it to survive: %v", pongs, tt.survives)
			}
		})
	}
	t.Run("ordercast's defaults", func(t *testing.T) {
		o := options(Config{}, nil, nil)
		if o.PingTimeout() <= o.PingInterval() {
			t.Fatalf("pingInterval %v, pingTimeout %v: defect 18 closes sessions", o.PingInterval(), o.PingTimeout())
		}
	})
}

// holdFirstPing holds the goroutine that wrote each session's first PING
// until its PONG was read (at most 1 s): the engine emits "drain" after the
// write and before it arms the PING's timeout.
func holdFirstPing(eio engine.BaseServer) {
	var mu sync.Mutex
	pings := map[engine.Socket]chan struct{}{} // PING flushed, PONG not yet read
	_ = eio.On("flush", func(args ...any) {
		conn, _ := args[0].(engine.Socket)
		packets, _ := args[1].([]*packet.Packet)
		for _, p := range packets {
			if p.Type != packet.PING {
				continue
			}
			mu.Lock()
			if _, seen := pings[conn]; !seen {
				ch := make(chan struct{})
				pings[conn] = ch
				var once sync.Once
				_ = conn.On("heartbeat", func(...any) { once.Do(func() { close(ch) }) })
			}
			mu.Unlock()
		}
	})
	_ = eio.On("drain", func(args ...any) {
		conn, _ := args[0].(engine.Socket)
		mu.Lock()
		ch := pings[conn]
		mu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			case <-time.After(time.Second):
			}
		}
	})
}

// TestFastPongs: 40 sessions at pingInterval 600 ms > pingTimeout 400 ms,
// each answering 3 PINGs at once. Written from the engine's goroutine, a
// PING's PONG could be read before the engine armed that PING's timeout
// (defect 18), and the session closed ("ping timeout"): 1 to 7 sessions
// in 40 here without pingWriteDelay (5 runs of 5 failed, at 300/100 ms and
// at 600/400 ms). The timeout leaves a PONG 380 ms, so that a machine
// loaded by go test -race ./... cannot close a session by a slow answer.
func TestFastPongs(t *testing.T) {
	s := New(Config{Transports: []string{"websocket"}, ConnectTimeout: time.Minute,
		PingInterval: 600 * time.Millisecond, PingTimeout: 400 * time.Millisecond})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	const sessions = 40
	closed := make(chan int, sessions)
	for range sessions {
		go func() {
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				closed <- -1
				return
			}
			defer ws.Close()
			closed <- answerPings(ws, 3, time.Now().Add(5*time.Second))
		}()
	}
	lost := 0
	for range sessions {
		if pongs := <-closed; pongs != 3 {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d sessions of %d closed before their third PING (defect 18)", lost, sessions)
	}
}

// answerPings answers up to n Engine.IO PINGs with PONGs, until deadline
// or the session's end, and returns how many it answered.
func answerPings(ws *websocket.Conn, n int, deadline time.Time) int {
	pongs := 0
	_ = ws.SetReadDeadline(deadline)
	for pongs < n {
		_, b, err := ws.ReadMessage()
		if err != nil {
			break
		}
		if string(b) == "2" {
			if ws.WriteMessage(websocket.TextMessage, []byte("3")) != nil {
				break
			}
			pongs++
		}
	}
	return pongs
}
