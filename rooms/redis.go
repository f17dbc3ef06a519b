package rooms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ordercast/ordercast/orders"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

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

// wire turns an emit argument into plain JSON values (maps, slices,
// strings, float64 or int64 numbers, bools) shaped by its JSON encoding.
//
// Why: the in-memory adapter JSON-encodes emit arguments, so MarshalJSON and
// json tags shape what clients get; the Redis adapter
// (adapters/redis/v3 adapter.Broadcast) msgpack-encodes them with
// vmihailenco/msgpack, which ignores both: an orders.Event would reach
// sockets on other processes (Go or Node) as {"OrderID", "Seq", "At": <msgpack
// timestamp>…} instead of the contract's payload. Plain values encode the same
// way in both codecs.
func wire(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	return numbers(out), nil
}

// numbers replaces json.Number (which msgpack would send as a string) with
// int64 when integral, else float64.
func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, x := range t {
			t[k] = numbers(x)
		}
	case []any:
		for i, x := range t {
			t[i] = numbers(x)
		}
	}
	return v
}

// emitPlain emits v to op's rooms, as plain JSON values with Redis (see
// wire).
func (h *Hub) emitPlain(op *socket.BroadcastOperator, event string, v any) error {
	p, err := h.wire(v)
	if err != nil {
		return err
	}
	return op.Emit(event, p)
}

// wire is the package-level wire with the Redis adapter and v itself with
// the in-memory one, which JSON-encodes v as clients expect.
func (h *Hub) wire(v any) (any, error) {
	if !h.redis {
		return v, nil
	}
	return wire(v)
}

// emitEvent emits a stored event to its order's room and to support, once
// per socket, as two single-room broadcasts rather than one to both rooms.
//
// Why: through Redis, a single-room broadcast travels on
// "<prefix>#/#<room>#", a several-room one on "<prefix>#/#", which the
// zishang520 adapter drops on receipt (cluster.Node.rebroadcast delivers
// those, over another connection). Single-room broadcasts all arrive over
// the adapter's one subscription, so other processes see an order's
// order:created and its events in the order they were published.
func (h *Hub) emitEvent(e orders.Event) error {
	p, err := h.wire(e)
	if err != nil {
		return err
	}
	return errors.Join(
		h.io.To(Order(e.OrderID)).Except(Support).Emit(e.Type, p),
		h.io.To(Support).Emit(e.Type, p),
	)
}
