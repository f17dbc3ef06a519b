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
	// EmitLocal sends v to this process's sockets in room.
	EmitLocal(event string, v any, room string) error
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

	stats *statsWindow
}

// NewHub returns a hub emitting through io. obs may be nil.
func NewHub(io Emitter, log *slog.Logger, obs Observer) *Hub {
	return &Hub{io: io, log: log, obs: obs, listeners: map[string]map[*Listener]struct{}{}, stats: newStatsWindow()}
}

// Publish emits a stored event to its order's room and to support, once per
// socket even when a socket is in both, and to the order's SSE listeners on
// this process.
func (h *Hub) Publish(e orders.Event) {
	if err := h.io.Emit(e.Type, e, string(Order(e.OrderID)), string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", e.Type, "order", e.OrderID, "seq", e.Seq, "err", err)
	}
	latency := time.Since(e.At)
	h.stats.record(latency)
	if h.obs != nil {
		h.obs.Broadcast(e.Type, latency)
	}
	h.notifyListeners(e)
}

// OrderCreated tells the support room about a new order.
func (h *Hub) OrderCreated(o orders.Order) {
	if err := h.io.Emit(EventCreated, map[string]any{"order": o}, string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventCreated, "order", o.ID, "err", err)
	}
	if h.obs != nil {
		h.obs.Broadcast(EventCreated, 0)
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

// Deliver hands an event stored and published by another process to this
// process's SSE listeners. Its sockets got it already, through the Socket.IO
// Redis adapter.
func (h *Hub) Deliver(e orders.Event) { h.notifyListeners(e) }

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
