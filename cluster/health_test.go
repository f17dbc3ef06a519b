package cluster

import (
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/ordercast/ordercast/sockets"
)

func TestClientFields(t *testing.T) {
	tests := []struct {
		line string
		want map[string]string
	}{
		{"id=3 addr=127.0.0.1:1 name=ordercast-adapter-x sub=3 psub=0", map[string]string{"id": "3", "addr": "127.0.0.1:1", "name": "ordercast-adapter-x", "sub": "3", "psub": "0"}},
		{"name= sub=1", map[string]string{"name": "", "sub": "1"}},
		{"", map[string]string{}},
	}
	for _, tt := range tests {
		got := clientFields(tt.line)
		if len(got) != len(tt.want) {
			t.Fatalf("clientFields(%q) = %v, want %v", tt.line, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Fatalf("clientFields(%q)[%s] = %q, want %q", tt.line, k, got[k], v)
			}
		}
	}
}

// TestAdapterIdlesWhileRedisIsDown: the adapter's receive loops retry at
// once after an error; without backoffDialer they spin a core each while
// Redis is unreachable (measured: 70-90% CPU for the process).
func TestAdapterIdlesWhileRedisIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "redis://" + ln.Addr().String()
	_ = ln.Close() // nobody listens there now: every dial is refused

	node, err := New(Config{URL: url, Prefix: "oc-test-down"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The adapter starts its receive loops.
	srv := sockets.New(sockets.Config{Transports: []string{"websocket"}, Adapter: node.Adapter()})
	node.Start(srv, &recorder{})
	defer func() {
		node.Stopping()
		srv.Close()
		_ = node.Close()
	}()

	before := cpuTime(t)
	const window = time.Second
	time.Sleep(window) // a measurement window, not a synchronisation
	used := cpuTime(t) - before
	if used > window/4 {
		t.Fatalf("the process used %v of CPU in %v while Redis was down: the receive loops spin", used, window)
	}
	if err := node.Check(t.Context()); err == nil {
		t.Fatal("Check passed with Redis unreachable")
	}
}

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
