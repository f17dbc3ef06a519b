package cluster

import (
	"crypto/rand"
	"io"
	"log/slog"
	"strings"
	"sync"
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
// own Socket.IO server and recorder, and waits until each is ready; each of
// before is called with each node before it starts.
func startNodes(t *testing.T, n int, before ...func(i int, n *Node)) ([]*Node, []*recorder) {
	t.Helper()
	url := testenv.RedisURL(t)
	prefix := "oc-test-" + strings.ToLower(rand.Text()[:10])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*Node
	var recs []*recorder
	for i := range n {
		node, err := New(Config{URL: url, Prefix: prefix, NodeID: prefix + "-" + string(rune('a'+i))}, log)
		if err != nil {
			t.Fatal(err)
		}
		srv := sockets.New(sockets.Config{Transports: []string{"websocket"}, Adapter: node.Adapter()})
		rec := &recorder{}
		for _, fn := range before {
			fn(i, node)
		}
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

// TestLifecycle: between New and Close nothing needs a call order; Close is
// idempotent and a Start after it does nothing.
func TestLifecycle(t *testing.T) {
	url := testenv.RedisURL(t)
	node, err := New(Config{URL: url, Prefix: "oc-test-life"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if node.Adapter() != node.Adapter() {
		t.Fatal("Adapter built a second adapter on the same clients")
	}
	rec := &recorder{}
	// Before Start: the relay and Gather work, readiness fails.
	node.Relay(rec).Publish(orders.Event{OrderID: "o-1", Seq: 1})
	if _, p, _ := rec.snapshot(); len(p) != 1 {
		t.Fatalf("the wrapped publisher got %v before Start, want the event", p)
	}
	if got := node.Gather(rooms.Stats{Nodes: 1}); got.Nodes != 1 {
		t.Fatalf("Gather before Start counted %d nodes, want 1", got.Nodes)
	}
	if err := node.Check(t.Context()); err == nil {
		t.Fatal("Check passed before Start")
	}
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	if err := node.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	srv := sockets.New(sockets.Config{Transports: []string{"websocket"}})
	defer srv.Close()
	node.Start(srv, rec)
	node.mu.Lock()
	started := node.started
	node.mu.Unlock()
	if started {
		t.Fatal("Start after Close started listening")
	}
}
