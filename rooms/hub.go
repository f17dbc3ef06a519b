package rooms

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/presence"
)

// Event names the hub emits besides the order events' own types.
const (
	EventCreated       = "order:created"
	EventStats         = "stats"
	EventAccessRevoked = "order:access-revoked"
	// The support desk's live signals (contract 0.2).
	EventTyping        = "order:typing"
	EventPresence      = "order:presence"
	EventSupportOnline = "support:online"
	EventAssigned      = "order:assigned"
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
	// LeaveLocal makes this process's socket sid leave room.
	LeaveLocal(sid, room string)
	// EmitVolatile sends v to the sockets in rooms on every process except
	// the socket except, dropped for a socket whose transport is busy.
	EmitVolatile(event string, v any, except string, rooms ...string) error
	// EmitLocalOutside sends v to this process's sockets not in room.
	EmitLocalOutside(event string, v any, room string) error
}

// Hub is the only code that emits to rooms. Handlers depend on it through
// small interfaces and never touch sockets' rooms to send.
type Hub struct {
	io      Emitter
	log     *slog.Logger
	obs     []Observer
	streams *Streams
	access  *Access

	seq      *sequencer
	presence *presenceBatch
	// encode is encodeEvent; tests count its calls.
	encode func(orders.Event) (json.RawMessage, error)
}

// NewHub returns a hub emitting through io, and handing each order's events
// to streams (SSE) in the same order. store fills gaps in an order's events
// (nil: gaps are skipped after the wait); obs are told about broadcasts.
func NewHub(io Emitter, streams *Streams, store EventReader, log *slog.Logger, obs ...Observer) *Hub {
	h := &Hub{io: io, log: log, obs: obs, streams: streams, access: NewAccess(), encode: encodeEvent}
	h.seq = newSequencer(h.deliver, store, GapWait, log)
	h.presence = newPresenceBatch(PresenceWindow, h.emitPresence)
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

// encodeEvent is e's JSON, as json.Marshal writes it (orders.FuzzEventJSON)
// without its reflection and its second pass over MarshalJSON's bytes.
func encodeEvent(e orders.Event) (json.RawMessage, error) { return e.MarshalJSON() }

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

// Admit registers m as following order id with token version (see Access).
// When that token was already replaced, m is cut off at once, as a
// revocation would have (a subscribe that raced with the reissue, a socket
// recovered after it), and Admit returns false.
func (h *Hub) Admit(id string, m Member, version int64) bool {
	if h.access.Admit(id, m, version) {
		return true
	}
	h.evict(id, m)
	return false
}

// Forget drops m's registration for order id.
func (h *Hub) Forget(id string, m Member) { h.access.Forget(id, m) }

// TokenReplaced cuts off, on this process, everything that follows order id
// with a token older than version (the cluster's relay tells the others,
// which call DeliverTokenReplaced).
func (h *Hub) TokenReplaced(id string, version int64) { h.DeliverTokenReplaced(id, version) }

// DeliverTokenReplaced cuts off this process's members of order id that
// used a token older than version: each forgets its access (streams end),
// and each socket leaves the order's room and is told so.
func (h *Hub) DeliverTokenReplaced(id string, version int64) {
	for _, m := range h.access.revoke(id, version) {
		h.evict(id, m)
	}
}

// evict tells m it lost order id; a socket leaves the order's room and gets
// order:access-revoked.
func (h *Hub) evict(id string, m Member) {
	m.Revoked(id)
	sid := m.SocketID()
	if sid == "" {
		return
	}
	h.io.LeaveLocal(sid, string(Order(id)))
	// A socket is alone in the room named by its id.
	if err := h.io.EmitLocal(EventAccessRevoked, map[string]any{"orderId": id}, sid); err != nil {
		h.log.Warn("broadcast failed", "event", EventAccessRevoked, "order", id, "err", err)
	}
}

// Typing relays a typing signal to the order's room and support on every
// process, never back to its sender (a socket id), and as a volatile emit:
// a signal a busy socket misses is superseded by the next one.
func (h *Hub) Typing(t orders.Typing, sender string) {
	if err := h.io.EmitVolatile(EventTyping, t, sender, string(Order(t.OrderID)), string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventTyping, "order", t.OrderID, "err", err)
	}
}

// Presence tells this process's sockets in the order's room and in support
// the order's counts over every process (presence.Book calls it whenever
// they change; each process tells its own sockets). Changes are coalesced
// (presence.go).
func (h *Hub) Presence(orderID string, c presence.Counts) { h.presence.add(orderID, c) }

func (h *Hub) emitPresence(orderID string, c presence.Counts) {
	payload := map[string]any{"orderId": orderID, "customers": c.Customers, "staff": c.Staff}
	if err := h.io.EmitLocal(EventPresence, payload, string(Order(orderID)), string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventPresence, "order", orderID, "err", err)
	}
}

// SupportOnline tells this process's sockets outside support how many
// staff sockets every process has.
func (h *Hub) SupportOnline(count int) {
	if err := h.io.EmitLocalOutside(EventSupportOnline, map[string]any{"count": count}, string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventSupportOnline, "err", err)
	}
}

// Assigned tells support on every process who handles an order now.
func (h *Hub) Assigned(a orders.Assignment) {
	if err := h.io.Emit(EventAssigned, a, string(Support)); err != nil {
		h.log.Warn("broadcast failed", "event", EventAssigned, "order", a.OrderID, "err", err)
	}
}
