package rooms

import (
	"log/slog"
	"sync"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
)

// Event names the hub emits besides the order events' own types.
const (
	EventCreated = "order:created"
	EventStats   = "stats"
)

// Observer is told about every broadcast (metrics).
type Observer interface {
	Broadcast(event string, latency time.Duration)
}

// Emitter sends to rooms on every process (sockets.Server).
type Emitter interface {
	// Emit sends v to the sockets in rooms, once per socket.
	Emit(event string, v any, rooms ...string) error
	// EmitLocal sends v to this process's sockets in rooms, once per socket.
	EmitLocal(event string, v any, rooms ...string) error
	// EmitForeign sends v to the sockets in rooms that no ordercast process
	// serves (Node servers sharing the Redis adapter).
	EmitForeign(event string, v any, rooms ...string) error
	// Count counts this process's connections, and the rooms named reports.
	Count(named func(room string) bool) sockets.Counts
}

// Hub is the only code that emits to rooms. Handlers depend on it through
// small interfaces and never touch sockets' rooms to send.
type Hub struct {
	io  Emitter
	log *slog.Logger
	obs Observer

	mu        sync.Mutex
	listeners map[string]map[*Listener]struct{}

	seq *sequencer

	stats *statsWindow
}

// NewHub returns a hub emitting through io. store fills gaps in an
// order's events (nil: gaps are skipped after the wait); obs may be nil.
func NewHub(io Emitter, store EventReader, log *slog.Logger, obs Observer) *Hub {
	h := &Hub{io: io, log: log, obs: obs, listeners: map[string]map[*Listener]struct{}{}, stats: newStatsWindow()}
	h.seq = newSequencer(h.deliver, store, GapWait, log)
	return h
}

// GapWait bounds how long an order's event waits for an earlier one
// before the gap is read from the store.
const GapWait = 250 * time.Millisecond

// Publish delivers an event this process stored: to its order's room and
// to support on every ordercast process (this one now, the others through
// the cluster's relay, each in seq order), and to Node servers sharing the
// Redis adapter.
func (h *Hub) Publish(e orders.Event) {
	if err := h.io.EmitForeign(e.Type, e, string(Order(e.OrderID)), string(Support)); err != nil {
		h.log.Warn("broadcast to foreign servers failed", "event", e.Type, "order", e.OrderID, "seq", e.Seq, "err", err)
	}
	latency := time.Since(e.At)
	h.stats.record(latency)
	if h.obs != nil {
		h.obs.Broadcast(e.Type, latency)
	}
	h.seq.offer(e)
}

// Deliver takes an event that another process stored and published.
func (h *Hub) Deliver(e orders.Event) { h.seq.offer(e) }

// Watch notes that a subscriber of order id has its events up to seq.
func (h *Hub) Watch(id string, seq int64) { h.seq.watch(id, seq) }

// deliver sends one event, in its order's seq order, to this process's
// sockets in its order's room and in support, and to its SSE listeners.
func (h *Hub) deliver(e orders.Event) {
	if err := h.io.EmitLocal(e.Type, e, string(Order(e.OrderID)), string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", e.Type, "order", e.OrderID, "seq", e.Seq, "err", err)
	}
	h.notifyListeners(e)
}

// OrderCreated tells the support room about a new order, on this process
// now and on the others through the cluster's relay (DeliverCreated).
func (h *Hub) OrderCreated(o orders.Order) {
	payload := map[string]any{"order": o}
	if err := h.io.EmitForeign(EventCreated, payload, string(Support)); err != nil {
		h.log.Warn("broadcast to foreign servers failed", "event", EventCreated, "order", o.ID, "err", err)
	}
	h.DeliverCreated(o)
	if h.obs != nil {
		h.obs.Broadcast(EventCreated, 0)
	}
}

// DeliverCreated tells this process's support sockets about a new order.
func (h *Hub) DeliverCreated(o orders.Order) {
	if err := h.io.EmitLocal(EventCreated, map[string]any{"order": o}, string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventCreated, "order", o.ID, "err", err)
	}
}

// Listener receives one order's events on this process (SSE streams).
type Listener struct {
	C chan orders.Event
	// Lagged is closed when the listener fell behind and was dropped; its
	// reader resumes from the store by seq.
	Lagged chan struct{}
	once   sync.Once
}

// Listen subscribes to order id's events; call the returned func to stop.
func (h *Hub) Listen(id string) (*Listener, func()) {
	l := &Listener{C: make(chan orders.Event, 64), Lagged: make(chan struct{})}
	h.mu.Lock()
	if h.listeners[id] == nil {
		h.listeners[id] = map[*Listener]struct{}{}
	}
	h.listeners[id][l] = struct{}{}
	h.mu.Unlock()
	return l, func() { h.unlisten(id, l) }
}

func (h *Hub) unlisten(id string, l *Listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.listeners[id], l)
	if len(h.listeners[id]) == 0 {
		delete(h.listeners, id)
	}
}

// Listeners counts SSE listeners on this process.
func (h *Hub) Listeners() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ls := range h.listeners {
		n += len(ls)
	}
	return n
}

func (h *Hub) notifyListeners(e orders.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners[e.OrderID] {
		select {
		case l.C <- e:
		default:
			// Never block a broadcast on a slow reader.
			l.once.Do(func() { close(l.Lagged) })
			delete(h.listeners[e.OrderID], l)
		}
	}
}

// What the hub offers when several processes share rooms through Redis
// (see the cluster package).

// ResyncListeners makes every SSE listener of this process catch up from the
// store by seq, as if it had lagged: after a Redis outage, events published
// by other processes in the meantime never reached this one.
func (h *Hub) ResyncListeners() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ls := range h.listeners {
		for l := range ls {
			l.once.Do(func() { close(l.Lagged) })
		}
		delete(h.listeners, id)
	}
}
