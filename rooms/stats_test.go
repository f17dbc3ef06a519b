package rooms

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercast/ordercast/sockets"
)

// tickCounter is a Counter that tells each tick's question and counts.
type tickCounter struct {
	admin  atomic.Bool
	asked  chan struct{}
	counts atomic.Int64
}

func (c *tickCounter) HasLocal(room string) bool {
	select {
	case c.asked <- struct{}{}:
	default: // the test has seen enough ticks
	}
	return room == string(Admin) && c.admin.Load()
}

func (c *tickCounter) Count(func(string) string) sockets.Counts {
	c.counts.Add(1)
	return sockets.Counts{WebSocket: 3}
}

// statsEmitter records the stats events sent.
type statsEmitter struct {
	Emitter
	sent chan Stats
}

func (e statsEmitter) EmitLocal(event string, v any, rooms ...string) error {
	if st, ok := v.(Stats); ok && event == EventStats {
		select {
		case e.sent <- st:
		default: // the test has seen enough
		}
	}
	return nil
}

// The reporter counts sockets and rooms only in a second someone reads:
// an admin on this process, or other processes (gather).
func TestReporterCountsOnlyWhenRead(t *testing.T) {
	wait := func(t *testing.T, what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", what)
		}
	}
	for _, tc := range []struct {
		name   string
		admin  bool
		gather func(Stats) Stats
		counts bool
	}{
		{"nobody reads", false, nil, false},
		{"an admin here", true, nil, true},
		{"other processes", false, func(st Stats) Stats { st.Nodes = 2; return st }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &tickCounter{asked: make(chan struct{}, 4)}
			c.admin.Store(tc.admin)
			em := statsEmitter{sent: make(chan Stats, 8)}
			r := NewReporter(em, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { r.Run(ctx, time.Millisecond, tc.gather); close(done) }()
			defer func() { cancel(); <-done }()
			if tc.gather == nil {
				for range 3 {
					wait(t, "tick", c.asked)
				}
			}
			select {
			case st := <-em.sent:
				if !tc.counts || st.Connections.WebSocket != 3 {
					t.Fatalf("sent %+v", st)
				}
			case <-time.After(map[bool]time.Duration{true: 5 * time.Second, false: 0}[tc.counts]):
				if tc.counts {
					t.Fatal("no stats within 5 s")
				}
				if n := c.counts.Load(); n != 0 {
					t.Fatalf("counted %d times with nobody reading", n)
				}
			}
		})
	}
}
