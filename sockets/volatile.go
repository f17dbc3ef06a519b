package sockets

import "github.com/zishang520/socket.io/servers/socket/v3"

// EmitVolatile sends v as event to the sockets in rooms on every process,
// except the socket except (its sender), as a volatile emit: a socket
// whose transport is busy at that moment does not get it, and nothing is
// kept for recovery (typing).
func (s *Server) EmitVolatile(event string, v any, except string, rooms ...string) error {
	return s.emit(volatile{s.IO.Sockets()}, event, v, rooms, []string{except}, s.remote)
}

// EmitLocalOutside sends v as event to every socket of this process that
// is not in room.
func (s *Server) EmitLocalOutside(event string, v any, room string) error {
	return s.IO.Local().Except(socket.Room(room)).Emit(event, v)
}

type volatile struct{ b broadcaster }

func (v volatile) To(rooms ...socket.Room) *socket.BroadcastOperator {
	return v.b.To(rooms...).Volatile()
}
