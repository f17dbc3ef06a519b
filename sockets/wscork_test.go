package sockets

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// While an emit runs (corked), broadcast frames are held and go out with
// one write at the uncork; a packet for one socket (an ack) is written at
// once, with the frames held before it.
func TestWSCorkCoalescesBroadcasts(t *testing.T) {
	w := &writeCount{}
	s, base, sessions := wsServer(t, wsConfig, w, true)
	joined := make(chan struct{}, 1)
	_ = s.IO.On("connection", func(args ...any) {
		so := args[0].(*socket.Socket)
		so.Join("r")
		_ = so.On("ask", func(args ...any) {
			args[len(args)-1].(socket.Ack)([]any{"now"}, nil)
		})
		joined <- struct{}{}
	})
	ws, es := dialWS(t, base, sessions)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if err := expectFrame(ws, "40{"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-joined:
	case <-time.After(5 * time.Second):
		t.Fatal("no socket")
	}
	wt := ownTransport(t, es)
	eventually(t, "the CONNECT write", func() bool { return idle(wt) })

	for _, ack := range []bool{false, true} {
		before := w.n.Load()
		s.cork.cork() // an emit in progress
		for i := range 3 {
			if err := s.IO.Local().To("r").Emit("e", i); err != nil {
				t.Fatal(err)
			}
		}
		if ack {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`421["ask"]`)); err != nil {
				t.Fatal(err)
			}
			if got := readFrames(t, ws, 4); strings.Join(got, " ") != `42["e",0] 42["e",1] 42["e",2] 431["now"]` {
				t.Fatalf("frames %q", got)
			}
		} else if n := w.n.Load() - before; n != 0 {
			t.Fatalf("%d writes while corked, want 0", n)
		}
		s.cork.uncork()
		if !ack {
			if got := readFrames(t, ws, 3); strings.Join(got, " ") != `42["e",0] 42["e",1] 42["e",2]` {
				t.Fatalf("frames %q", got)
			}
		}
		if n := w.n.Load() - before; n != 1 {
			t.Errorf("ack %v: %d writes for 3 held broadcasts, want 1", ack, n)
		}
		eventually(t, "the transport to go idle", func() bool { return idle(wt) })
	}
}

// Concurrent emits: every client gets every event, each emitter's in the
// order it emitted them, and nothing stays held once the emits are done.
func TestWSConcurrentEmitsDeliverAll(t *testing.T) {
	const clients, emitters, each = 10, 8, 40
	s, base, sessions := wsServer(t, wsConfig, nil, false)
	var joined atomic.Int64
	_ = s.IO.On("connection", func(args ...any) {
		args[0].(*socket.Socket).Join("r")
		joined.Add(1)
	})
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i], _ = dialWS(t, base, sessions)
		if err := conns[i].WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		if err := expectFrame(conns[i], "40{"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every socket in the room", func() bool { return joined.Load() == clients })
	var wg sync.WaitGroup
	for e := range emitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.EmitLocal("e", []int{e, i}, "r"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for c, ws := range conns {
		next := make([]int, emitters)
		for _, f := range readFrames(t, ws, emitters*each) {
			var e, i int
			if _, err := fmt.Sscanf(f, `42["e",[%d,%d]]`, &e, &i); err != nil || e >= emitters || i != next[e] {
				t.Fatalf("client %d: %q after %v", c, f, next)
			}
			next[e]++
		}
	}
}
