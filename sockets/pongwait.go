package sockets

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

// pongAfterPingTimer (defect 18) makes a PONG wait until its PING's
// timeout timer is set. The engine's ping timer (servers/engine/v3
// socket.go schedulePing) writes the PING and only then arms the ping
// timeout (resetPingTimeout), on the timer's goroutine; the client's PONG
// is read on the transport's. A PONG read in between clears the previous,
// already spent timer, and the new one closes the session pingTimeout later
// ("ping timeout") although the client answered at once, unless the next
// PING (the PONG restarts the interval) comes first, that is unless
// pingInterval < pingTimeout. On a busy machine
// this closed 1 WebSocket session in 30 at pingInterval 300 ms (protocol
// suites, "heartbeat: should send ping/pong packets"). Node runs both on
// one thread and cannot interleave them.
//
// The "packet" event comes before the engine handles the PONG, on the
// goroutine that handles it: there, a PONG whose PING has been created
// (the "packetCreate" event, before the write) waits until the engine has
// stored a new ping timeout timer, at most pingTimeout. It reads the
// engine's unexported timer field: when a library version renames it or
// changes its type, pingTimeoutTimer returns nil and the workaround is off
// (TestPongRightAfterPing then fails).
func pongAfterPingTimer(maxWait time.Duration) func(engine.Socket) {
	return func(conn engine.Socket) {
		timer := pingTimeoutTimer(conn)
		if timer == nil {
			return
		}
		var mu sync.Mutex
		var before *utils.Timer // the timer when the last PING was created
		var pinged bool         // a PING is out whose timer may not be set
		_ = conn.On("packetCreate", func(args ...any) {
			if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.PING {
				mu.Lock()
				before, pinged = timer.Load(), true
				mu.Unlock()
			}
		})
		_ = conn.On("packet", func(args ...any) {
			p, ok := args[0].(*packet.Packet)
			if !ok || p.Type != packet.PONG {
				return
			}
			mu.Lock()
			old, wait := before, pinged
			pinged = false
			mu.Unlock()
			if !wait {
				return
			}
			deadline := time.Now().Add(maxWait)
			for timer.Load() == old && conn.ReadyState() == "open" && time.Now().Before(deadline) {
				runtime.Gosched()
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
}

// pingTimeoutTimer returns the engine session's ping timeout timer field
// (servers/engine/v3 socket.go), or nil if conn has none of that type.
func pingTimeoutTimer(conn engine.Socket) *atomic.Pointer[utils.Timer] {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("pingTimeoutTimer")
	if !f.IsValid() || f.Type() != reflect.TypeFor[atomic.Pointer[utils.Timer]]() {
		return nil
	}
	return (*atomic.Pointer[utils.Timer])(unsafe.Pointer(f.UnsafeAddr()))
}
