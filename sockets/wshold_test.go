package sockets

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Events sent at once are acked with one write(2), a broadcast written
// meanwhile among the acks in order; without the hold (noHold) each frame
// costs a write. Nothing stays held afterwards, and a lone event's ack is
// written without waiting for anything.
func TestBatchRepliesOneWrite(t *testing.T) {
	const events = 8
	for _, tc := range []struct {
		name   string
		noHold bool
		writes int64
	}{
		{"held", false, 1},
		{"each at once", true, events + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &writeCount{}
			cfg := wsConfig
			cfg.noHold = tc.noHold
			s, base, sessions := wsServer(t, cfg, w, true)
			var received atomic.Int64
			_ = s.IO.On("connection", func(args ...any) {
				so := args[0].(*socket.Socket)
				so.Join("r")
				// As ordercast's handlers: on the task of the packet
				// (so.On's listeners run on a second task, queued later).
				so.OnAny(func(args ...any) {
					i := int(args[1].(float64))
					if i == 0 {
						// The rest are queued behind this one before it
						// acks: all read, and the reader done with them.
						if !within(func() bool {
							wt := so.Conn().Transport().(*wsTransport)
							wt.mu.Lock()
							defer wt.mu.Unlock()
							return received.Load() == events && wt.holds == 0
						}) {
							t.Error("the other events were not all read")
						}
					}
					if i == 3 {
						_ = s.IO.Local().To("r").Emit("b", i)
					}
					ack := args[len(args)-1].(socket.Ack)
					s.BatchReplies(so, func() { ack([]any{i}, nil) })
				})
			})
			ws, es := dialWS(t, base, sessions)
			_ = es.On("packet", func(...any) { received.Add(1) })
			wt := connectMain(t, ws, es)
			received.Store(0)

			var batch []byte
			for i := range events {
				batch = append(batch, clientFrameBytes(true, opText, fmt.Appendf(nil, `42%d["q",%d]`, i, i), false)...)
			}
			before := w.n.Load()
			if _, err := ws.NetConn().Write(batch); err != nil { // one read on the server
				t.Fatal(err)
			}
			var want []string
			for i := range events {
				if i == 3 {
					want = append(want, `42["b",3]`)
				}
				want = append(want, fmt.Sprintf("43%d[%d]", i, i))
			}
			if got := readFrames(t, ws, len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("frames %q, want %q", got, want)
			}
			if n := w.n.Load() - before; n != tc.writes {
				t.Errorf("%d writes for %d acks and a broadcast, want %d", n, events, tc.writes)
			}
			eventually(t, "nothing held", func() bool { return idle(wt) && wt.holds == 0 })

			// One event alone: its ack goes out with no other event to wait for.
			before = w.n.Load()
			if _, err := ws.NetConn().Write(clientFrameBytes(true, opText, []byte(`429["q",9]`), false)); err != nil {
				t.Fatal(err)
			}
			if got := readFrames(t, ws, 1); got[0] != "439[9]" {
				t.Fatalf("frame %q", got[0])
			}
			if n := w.n.Load() - before; n != 1 {
				t.Errorf("%d writes for one ack, want 1", n)
			}
		})
	}
}

// A hold ends with the socket: an ack batched as its socket disconnects
// leaves nothing held on the connection.
func TestBatchRepliesReleasedOnDisconnect(t *testing.T) {
	s, base, sessions := wsServer(t, wsConfig, nil, true)
	sockets := make(chan *socket.Socket, 1)
	_ = s.IO.On("connection", func(args ...any) { sockets <- args[0].(*socket.Socket) })
	ws, es := dialWS(t, base, sessions)
	wt := connectMain(t, ws, es)
	var so *socket.Socket
	select {
	case so = <-sockets:
	case <-time.After(5 * time.Second):
		t.Fatal("no socket")
	}
	done := make(chan struct{})
	so.Enqueue(func() {
		defer close(done)
		so.Disconnect(false) // the queue takes no more tasks
		s.BatchReplies(so, func() { _ = so.Emit("late") })
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the task did not run")
	}
	eventually(t, "nothing held", func() bool {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		return wt.holds == 0 && !wt.writing
	})
}

// The first of several events read at once is answered on another
// goroutine while the reader still hands over the rest: its ack waits for
// them, held by the reader.
func TestBatchRepliesHeldWhileReading(t *testing.T) {
	w := &writeCount{}
	s, base, sessions := wsServer(t, wsConfig, w, true)
	acked := make(chan struct{})
	_ = s.IO.On("connection", func(args ...any) {
		so := args[0].(*socket.Socket)
		so.OnAny(func(args ...any) {
			i := int(args[1].(float64))
			ack := args[len(args)-1].(socket.Ack)
			s.BatchReplies(so, func() { ack([]any{i}, nil) })
			if i == 0 {
				// Its release is queued behind nothing: it has run once
				// this task is over; tell the reader after it.
				so.Enqueue(func() { close(acked) })
			}
		})
	})
	ws, es := dialWS(t, base, sessions)
	connectMain(t, ws, es)
	var packets atomic.Int64
	var during int64 = -1
	before := w.n.Load()
	_ = es.On("packet", func(...any) {
		if packets.Add(1) == 2 { // on the reader, before the second event
			select {
			case <-acked:
				during = w.n.Load() - before
			case <-time.After(5 * time.Second):
				t.Error("the first event was not acked")
			}
		}
	})
	var batch []byte
	for i := range 2 {
		batch = append(batch, clientFrameBytes(true, opText, fmt.Appendf(nil, `42%d["q",%d]`, i, i), false)...)
	}
	if _, err := ws.NetConn().Write(batch); err != nil {
		t.Fatal(err)
	}
	if got := readFrames(t, ws, 2); strings.Join(got, " ") != "430[0] 431[1]" {
		t.Fatalf("frames %q", got)
	}
	if during != 0 {
		t.Errorf("%d writes while the reader handed over the second event, want 0", during)
	}
}

// connectMain joins "/" on ws and waits until the CONNECT reply is written:
// the transport is idle, holding nothing.
func connectMain(t *testing.T, ws *websocket.Conn, es engine.Socket) *wsTransport {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if err := expectFrame(ws, "40{"); err != nil {
		t.Fatal(err)
	}
	wt := ownTransport(t, es)
	eventually(t, "the CONNECT write", func() bool { return idle(wt) })
	return wt
}

// A PING writes what a hold kept, whether it is written at once or later:
// a hold whose release never comes keeps frames until the next PING at
// most.
func TestPingWritesWhatAHoldKept(t *testing.T) {
	for _, tc := range []struct {
		name              string
		interval, timeout time.Duration
	}{
		{"at once (the defaults)", 0, 0},
		{"later (pingInterval > pingTimeout)", 300 * time.Millisecond, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := wsConfig
			cfg.PingInterval, cfg.PingTimeout = tc.interval, tc.timeout
			ws, wt := idleWS(t, cfg, nil, true)
			wt.holdWrites() // never released
			wt.Send(message("held"))
			wt.Send([]*packet.Packet{{Type: packet.PING}})
			if got := readFrames(t, ws, 2); strings.Join(got, " ") != "4held 2" {
				t.Fatalf("frames %q, want the held message, then the PING", got)
			}
		})
	}
}
