package sockets

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The packets of one Send go out as one write, as frames in order: text
// packets, a broadcast's pre-encoded frame and a binary one.
func TestWSOneWritePerSend(t *testing.T) {
	for _, raw := range []bool{true, false} {
		name := map[bool]string{true: "descriptor", false: "writer goroutine"}[raw]
		t.Run(name, func(t *testing.T) {
			w := &writeCount{}
			ws, wt := idleWS(t, wsConfig, w, raw)
			before := w.n.Load()
			pre := types.NewStringBufferString(`42["order:status",{"seq":1}]`)
			wt.Send([]*packet.Packet{
				{Type: packet.MESSAGE, Data: types.NewStringBufferString("a")},
				{Type: packet.MESSAGE, Data: types.NewStringBufferString("b")},
				{Type: packet.MESSAGE, Data: types.NewStringBufferString("ignored"), Options: &packet.Options{WsPreEncodedFrame: pre}},
				{Type: packet.MESSAGE, Data: types.NewBytesBuffer([]byte{1, 2, 3})},
				{Type: packet.NOOP},
			})
			got := readFrames(t, ws, 5)
			want := []string{"4a", "4b", `42["order:status",{"seq":1}]`, "\x01\x02\x03", "6"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("frames %q, want %q", got, want)
			}
			if n := w.n.Load() - before; n != 1 {
				t.Errorf("%d writes for one Send of 5 packets, want 1", n)
			}
			eventually(t, "the transport to go idle", func() bool { return idle(wt) })
		})
	}
}

// While a write is stuck, the engine keeps what it is given, and the next
// flush writes all of it at once; then the transport goes idle again,
// holding no buffer.
func TestWSFlushAfterStuckWriteCoalesces(t *testing.T) {
	w := &writeCount{}
	_, base, sessions := wsServer(t, wsConfig, w, false)
	ws, es := dialWS(t, base, sessions)
	wt := ownTransport(t, es)
	eventually(t, "the OPEN write", func() bool { return idle(wt) })
	before := w.n.Load()
	w.hold()
	es.Send(types.NewStringBufferString("first"), nil, nil)
	eventually(t, "the transport to stop taking writes", func() bool { return !wt.Writable() })
	for _, m := range []string{"2", "3", "4", "5", "6"} {
		es.Send(types.NewStringBufferString(m), nil, nil)
	}
	w.release()
	got := readFrames(t, ws, 6)
	if strings.Join(got, " ") != "4first 42 43 44 45 46" {
		t.Fatalf("frames %q", got)
	}
	eventually(t, "the transport to go idle", func() bool { return idle(wt) })
	if n := w.n.Load() - before; n != 2 {
		t.Errorf("%d writes for a stuck write and 5 packets sent meanwhile, want 2", n)
	}
}

// A client that does not read fills its socket: the non-blocking write
// takes part of a flush, the writer goroutine the rest, the engine keeps
// the packets sent meanwhile; once the client reads, every packet arrives
// in order and the transport goes idle.
func TestWSFullSocketHandsOverToWriter(t *testing.T) {
	cfg := wsConfig
	cfg.MaxMessageBytes = 1 << 20
	_, base, sessions := wsServer(t, cfg, nil, false)
	ws, es := dialWS(t, base, sessions)
	wt := ownTransport(t, es)
	if wt.raw == nil {
		t.Skip("no descriptor to write to without blocking here")
	}
	const n = 400
	chunk := strings.Repeat("x", 32<<10)
	handedOver := false
	for i := range n {
		es.Send(types.NewStringBufferString(fmt.Sprintf("%d %s", i, chunk)), nil, nil)
		handedOver = handedOver || !wt.Writable()
	}
	if !handedOver {
		t.Fatalf("%d MB taken at once by a socket nobody reads", n*len(chunk)>>20)
	}
	for i, f := range readFrames(t, ws, n) {
		if !strings.HasPrefix(f, fmt.Sprintf("4%d x", i)) || len(f) != len(fmt.Sprintf("4%d ", i))+len(chunk) {
			t.Fatalf("frame %d: %.20q (%d bytes)", i, f, len(f))
		}
	}
	eventually(t, "the transport to go idle", func() bool { return idle(wt) })
}

// A PING is written by the Send that flushes it, unless defect 18 can
// close the session (pingInterval > pingTimeout): then pingWriteDelay
// later, from writeLoop.
func TestWSPingWrittenAtOnceUnlessDefect18(t *testing.T) {
	for _, tc := range []struct {
		name              string
		interval, timeout time.Duration
		deferred          bool
	}{
		{"interval < timeout (the defaults)", 0, 0, false},
		{"interval > timeout", 300 * time.Millisecond, 200 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := wsConfig
			cfg.PingInterval, cfg.PingTimeout = tc.interval, tc.timeout
			w := &writeCount{}
			ws, wt := idleWS(t, cfg, w, true)
			before := w.n.Load()
			wt.Send([]*packet.Packet{{Type: packet.PING}})
			if written := w.n.Load() > before; written == tc.deferred {
				t.Fatalf("written when Send returned: %v, want %v", written, !tc.deferred)
			}
			if got := readFrames(t, ws, 1); got[0] != "2" {
				t.Fatalf("frame %q, want the PING", got[0])
			}
			eventually(t, "the transport to go idle", func() bool { return idle(wt) })
		})
	}
}

func TestPingWriteDelay(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		interval, timeout, want time.Duration
	}{
		{20 * time.Second, 25 * time.Second, 0}, // ordercast's defaults
		{ms, ms, 0},
		{300 * ms, 200 * ms, 20 * ms}, // the conformance fixture
		{600 * ms, 400 * ms, 20 * ms}, // TestFastPongs
		{300 * ms, 100 * ms, 10 * ms},
		{25 * time.Second, 20 * time.Second, 20 * ms}, // Node's defaults
		{300 * ms, 20 * ms, 5 * ms},
		{300 * ms, 6 * ms, 3 * ms}, // the client keeps half of pingTimeout
	} {
		if got := pingWriteDelay(tc.interval, tc.timeout); got != tc.want {
			t.Errorf("pingWriteDelay(%v, %v) = %v, want %v", tc.interval, tc.timeout, got, tc.want)
		}
	}
}
