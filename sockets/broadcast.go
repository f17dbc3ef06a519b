package sockets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Emit sends v as event to the sockets in rooms, on every process (and on
// Node servers sharing the adapter), once per socket even when a socket is
// in several of them.
//
// Defect 11 (adapters/redis/v3 adapter.onMessage): through Redis, a
// single-room broadcast travels on "<prefix>#/#<room>#", a several-room one
// on "<prefix>#/#", which the adapter drops on receipt. So a several-room
// emit becomes one single-room emit per room, each except the rooms after
// it. (DeliverBare delivers Node's several-room emits.)
func (s *Server) Emit(event string, v any, rooms ...string) error {
	return s.emit(s.IO.Sockets(), event, v, rooms, nil, s.remote)
}

// EmitLocal sends v as event to this process's sockets in rooms, once per
// socket, in one broadcast: the library encodes the packet once for every
// room and recipient (and passes a json.RawMessage v through as it is).
func (s *Server) EmitLocal(event string, v any, rooms ...string) error {
	return s.emit(s.IO.Local(), event, v, rooms, nil, false)
}

// EmitForeign sends v as event to the sockets in rooms that no ordercast
// process serves: those of Node socket.io servers sharing the Redis
// adapter, when Config.ForeignPeers says there are any.
func (s *Server) EmitForeign(event string, v any, rooms ...string) error {
	if !s.foreign {
		return nil
	}
	return s.emit(s.IO.Sockets(), event, v, rooms, []string{ServedRoom}, true)
}

// ServedRoom holds every socket an ordercast process serves, so that an
// emit can leave them out (EmitForeign).
const ServedRoom = "ordercast:served"

// broadcaster is a namespace, or its local-only operator.
type broadcaster interface {
	To(...socket.Room) *socket.BroadcastOperator
}

// emit sends v to rooms through b; plain: v leaves this process.
func (s *Server) emit(b broadcaster, event string, v any, rooms, except []string, plain bool) error {
	if plain {
		// Defect 12 (adapters/redis/v3 adapter.Broadcast): the Redis adapter
		// msgpack-encodes emit arguments with vmihailenco/msgpack, which
		// ignores json tags and MarshalJSON: an event would reach other
		// processes (Go or Node) as {"OrderID", …} with a msgpack timestamp.
		// Plain JSON values encode the same in both codecs. The in-memory
		// adapter JSON-encodes v as clients expect.
		p, err := plainJSON(v)
		if err != nil {
			return err
		}
		v = p
	}
	// Frames for this process's WebSocket clients are written together at
	// the end (wscork.go), with those of emits running meanwhile.
	s.cork.cork()
	defer s.cork.uncork()
	if !plain {
		// Nothing leaves this process (defect 11 is Redis's): one broadcast
		// to all the rooms, one encoding.
		op := b.To(toRooms(rooms)...)
		for _, x := range except {
			op = op.Except(socket.Room(x))
		}
		return op.Emit(event, v)
	}
	errs := make([]error, 0, len(rooms))
	for i, r := range rooms {
		op := b.To(socket.Room(r))
		for _, x := range append(rooms[i+1:len(rooms):len(rooms)], except...) {
			op = op.Except(socket.Room(x))
		}
		errs = append(errs, op.Emit(event, v))
	}
	return errors.Join(errs...)
}

func toRooms(names []string) []socket.Room {
	rs := make([]socket.Room, len(names))
	for i, n := range names {
		rs[i] = socket.Room(n)
	}
	return rs
}

// plainJSON turns v into plain JSON values (maps, slices, strings, float64
// or int64 numbers, bools) shaped by its JSON encoding (defect 12).
func plainJSON(v any) (any, error) {
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

// Counts are this process's sockets by transport and its rooms by kind.
type Counts struct {
	WebSocket, Polling int
	Rooms              map[string]int
}

// Count counts this process's sockets by transport, and its rooms by the
// kind that kind names ("" for a room not counted). Stats and metrics both
// count through here.
func (s *Server) Count(kind func(room string) string) Counts {
	c := Counts{Rooms: map[string]int{}}
	s.IO.Sockets().Sockets().Range(func(_ socket.SocketId, so *socket.Socket) bool {
		if t := so.Conn().Transport(); t != nil && t.Name() == "polling" {
			c.Polling++
		} else {
			c.WebSocket++
		}
		return true
	})
	s.IO.Sockets().Adapter().Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
		if k := kind(string(r)); k != "" {
			c.Rooms[k]++
		}
		return true
	})
	return c
}

// DropConnections closes the Engine.IO connection of every local socket, so
// that its client reports "transport close" and reconnects by itself.
// (Socket.Disconnect, even with close=true, first sends a namespace
// DISCONNECT, after which a stock client does not reconnect: "io server
// disconnect".)
func (s *Server) DropConnections() {
	s.IO.Sockets().Sockets().Range(func(_ socket.SocketId, so *socket.Socket) bool {
		if c := so.Conn(); c != nil {
			c.Close(false)
		}
		return true
	})
}
