package rooms

import (
	"log/slog"
	"sync"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/zishang520/socket.io/servers/socket/v3"
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

// Hub is the only code that emits to rooms. Handlers depend on it through
// small interfaces and never touch sockets' rooms to send.
type Hub struct {
	io  *socket.Server
	log *slog.Logger
	obs Observer

	// redis: io broadcasts through the Redis adapter, so emit arguments are
	// turned into plain values first (see wire).
	redis bool

	mu        sync.Mutex
	listeners map[string]map[*Listener]struct{}

	stats *statsWindow
}

// HubConfig is what a hub needs to know about its Socket.IO server.
type HubConfig struct {
	// Redis is set when the server runs with the Redis adapter. Its
	// msgpack ignores json tags and MarshalJSON, so every emit argument
	// then goes through a JSON round trip (wire); the in-memory adapter
	// encodes with encoding/json and gets the values as they are, which
	// saves that round trip on every broadcast.
	Redis bool
}

// NewHub returns a hub emitting through io with the in-memory adapter.
// obs may be nil.
func NewHub(io *socket.Server, log *slog.Logger, obs Observer) *Hub {
	return NewHubConfig(io, log, obs, HubConfig{})
}

// NewHubConfig returns a hub emitting through io as cfg says. obs may be nil.
func NewHubConfig(io *socket.Server, log *slog.Logger, obs Observer, cfg HubConfig) *Hub {
	return &Hub{io: io, log: log, obs: obs, redis: cfg.Redis, listeners: map[string]map[*Listener]struct{}{}, stats: newStatsWindow()}
}

// Publish emits a stored event to its order's room and to support, once per
// socket even when a socket is in both, and to the order's SSE listeners on
// this process.
func (h *Hub) Publish(e orders.Event) {
	if err := h.emitEvent(e); err != nil {
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
	if err := h.emitPlain(h.io.To(Support), EventCreated, map[string]any{"order": o}); err != nil {
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
