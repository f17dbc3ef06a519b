package rooms

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ordercast/ordercast/orders"
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
}

// Hub is the only code that emits to rooms. Handlers depend on it through
// small interfaces and never touch sockets' rooms to send.
type Hub struct {
	io      Emitter
	log     *slog.Logger
	obs     []Observer
	streams *Streams

	seq *sequencer
	// encode is encodeEvent; tests count its calls.
	encode func(orders.Event) (json.RawMessage, error)
}

// NewHub returns a hub emitting through io, and handing each order's events
// to streams (SSE) in the same order. store fills gaps in an order's events
// (nil: gaps are skipped after the wait); obs are told about broadcasts.
func NewHub(io Emitter, streams *Streams, store EventReader, log *slog.Logger, obs ...Observer) *Hub {
	h := &Hub{io: io, log: log, obs: obs, streams: streams, encode: encodeEvent}
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
	for _, o := range h.obs {
		o.Broadcast(e.Type, latency)
	}
	h.seq.offer(e)
}

// Deliver takes an event that another process stored and published.
func (h *Hub) Deliver(e orders.Event) { h.seq.offer(e) }

// Watch notes that a subscriber of order id has its events up to seq.
func (h *Hub) Watch(id string, seq int64) { h.seq.watch(id, seq) }

// deliver sends one event, in its order's seq order, to this process's
// sockets in its order's room and in support, and to its SSE listeners.
// The event is encoded to JSON once, here: the library passes the bytes
// through into the one packet it encodes for both rooms, and every SSE
// stream writes the same bytes.
func (h *Hub) deliver(e orders.Event) {
	data, err := h.encode(e)
	if err != nil {
		h.log.Warn("encoding an event failed", "order", e.OrderID, "seq", e.Seq, "err", err)
		return
	}
	if err := h.io.EmitLocal(e.Type, data, string(Order(e.OrderID)), string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", e.Type, "order", e.OrderID, "seq", e.Seq, "err", err)
	}
	h.streams.deliver(Delivery{Event: e, JSON: data})
}

// Delivery is an event with its JSON payload, encoded once for all its
// recipients.
type Delivery struct {
	orders.Event
	JSON json.RawMessage
}

func encodeEvent(e orders.Event) (json.RawMessage, error) { return json.Marshal(e) }

// OrderCreated tells the support room about a new order, on this process
// now and on the others through the cluster's relay (DeliverCreated).
func (h *Hub) OrderCreated(o orders.Order) {
	payload := map[string]any{"order": o}
	if err := h.io.EmitForeign(EventCreated, payload, string(Support)); err != nil {
		h.log.Warn("broadcast to foreign servers failed", "event", EventCreated, "order", o.ID, "err", err)
	}
	h.DeliverCreated(o)
	for _, o := range h.obs {
		o.Broadcast(EventCreated, 0)
	}
}

// DeliverCreated tells this process's support sockets about a new order.
func (h *Hub) DeliverCreated(o orders.Order) {
	if err := h.io.EmitLocal(EventCreated, map[string]any{"order": o}, string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventCreated, "order", o.ID, "err", err)
	}
}
