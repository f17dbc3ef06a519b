package cluster

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordercast/ordercast/sockets"

	"github.com/ordercast/ordercast/internal/testenv"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
)

// recorder is a Local and a Publisher that remembers what it was given.
type recorder struct {
	mu        sync.Mutex
	delivered []orders.Event
	published []orders.Event
	created   []string
	resyncs   int
}

func (r *recorder) Deliver(e orders.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delivered = append(r.delivered, e)
}

func (r *recorder) ResyncListeners() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resyncs++
}

func (r *recorder) Publish(e orders.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, e)
}

func (r *recorder) OrderCreated(orders.Order) {}

func (r *recorder) DeliverCreated(o orders.Order) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = append(r.created, o.ID)
}

func (r *recorder) Watch(string, int64) {}

func (r *recorder) Listen(string) (*rooms.Listener, func()) { return nil, func() {} }

func (r *recorder) snapshot() (delivered, published []orders.Event, resyncs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]orders.Event(nil), r.delivered...), append([]orders.Event(nil), r.published...), r.resyncs
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // poll interval of a deadline wait
	}
}

// startNodes starts n nodes sharing a fresh channel prefix, each with its
// own Socket.IO server and recorder, and waits until each is ready.
func startNodes(t *testing.T, n int) ([]*Node, []*recorder) {
	t.Helper()
	url := testenv.RedisURL(t)
	prefix := "oc-test-" + strings.ToLower(rand.Text()[:10])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*Node
	var recs []*recorder
	for i := range n {
		node, err := Open(Config{URL: url, Prefix: prefix, NodeID: prefix + "-" + string(rune('a'+i))}, log)
		if err != nil {
			t.Fatal(err)
		}
		srv := sockets.New(sockets.Config{Transports: []string{"websocket"}, Adapter: node.Adapter()})
		rec := &recorder{}
		node.Start(srv, rec)
		t.Cleanup(func() {
			srv.Close()
			_ = node.Close()
		})
		nodes = append(nodes, node)
		recs = append(recs, rec)
	}
	for _, node := range nodes {
		eventually(t, "node "+node.ID()+" ready", func() bool { return node.Check(t.Context()) == nil })
	}
	return nodes, recs
}

func TestRelayDeliversToOtherNodesOnly(t *testing.T) {
	nodes, recs := startNodes(t, 2)
	e := orders.Event{OrderID: "o-1", Seq: 7, Type: orders.TypeStatus, At: time.Now().UTC(), Status: orders.Shipped, By: "service"}
	nodes[0].Relay(recs[0]).Publish(e)

	eventually(t, "node b gets the event", func() bool {
		d, _, _ := recs[1].snapshot()
		return len(d) == 1
	})
	d, _, _ := recs[1].snapshot()
	if got := d[0]; got.OrderID != e.OrderID || got.Seq != e.Seq || got.Status != e.Status || !got.At.Equal(e.At) {
		t.Fatalf("delivered %+v, want %+v", got, e)
	}
	d0, p0, _ := recs[0].snapshot()
	if len(p0) != 1 || p0[0].Seq != 7 {
		t.Fatalf("the wrapped publisher got %v, want the event once", p0)
	}
	if len(d0) != 0 {
		t.Fatalf("node a delivered its own event to itself: %v", d0)
	}
}

func TestGatherCountsLiveNodes(t *testing.T) {
	nodes, _ := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	sa := rooms.Stats{Connections: rooms.Connections{WebSocket: 2, Polling: 1}, Rooms: 3, EventsPerSecond: 1, Nodes: 1}
	sb := rooms.Stats{Connections: rooms.Connections{WebSocket: 5}, Rooms: 1, EventsPerSecond: 3, Nodes: 1}

	var got rooms.Stats
	eventually(t, "a sees b", func() bool {
		b.Gather(sb)
		got = a.Gather(sa)
		return got.Nodes == 2
	})
	want := rooms.Connections{WebSocket: 7, Polling: 1}
	if got.Connections != want || got.Rooms != 4 || got.EventsPerSecond != 4 {
		t.Fatalf("merged %+v, want connections %+v, rooms 4, 4 events/s", got, want)
	}

	// A node that leaves says so: it stops counting at once, not after
	// StatsTTL.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a forgets b", func() bool { return a.Gather(sa).Nodes == 1 })
}

func TestMerge(t *testing.T) {
	st := func(ws, poll, rms int, eps, p50, p99 float64) rooms.Stats {
		return rooms.Stats{Connections: rooms.Connections{WebSocket: ws, Polling: poll}, Rooms: rms,
			EventsPerSecond: eps, BroadcastLatencyMs: rooms.Latency{P50: p50, P99: p99}, Nodes: 1}
	}
	tests := []struct {
		name   string
		local  rooms.Stats
		others []rooms.Stats
		want   rooms.Stats
	}{
		{"alone", st(1, 2, 3, 4, 5, 6), nil, st(1, 2, 3, 4, 5, 6)},
		{"sums and weights p50 by events", st(1, 0, 2, 1, 10, 20), []rooms.Stats{st(0, 3, 1, 3, 2, 50)},
			func() rooms.Stats { s := st(1, 3, 3, 4, 4, 50); s.Nodes = 2; return s }()},
		{"idle nodes", st(1, 0, 1, 0, 0, 0), []rooms.Stats{st(1, 0, 1, 0, 0, 0), st(0, 1, 0, 0, 0, 0)},
			func() rooms.Stats { s := st(2, 1, 2, 0, 0, 0); s.Nodes = 3; return s }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := merge(tt.local, tt.others); got != tt.want {
				t.Fatalf("merge = %+v, want %+v", got, tt.want)
			}
		})
	}
}

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

	node, err := Open(Config{URL: url, Prefix: "oc-test-down"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
