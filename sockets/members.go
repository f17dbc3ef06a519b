package sockets

import "github.com/zishang520/socket.io/servers/socket/v3"

// LeaveLocal makes this process's socket sid leave room; an unknown sid
// (disconnected meanwhile) is ignored.
func (s *Server) LeaveLocal(sid, room string) {
	if so, ok := s.IO.Sockets().Sockets().Load(socket.SocketId(sid)); ok {
		so.Leave(socket.Room(room))
	}
}

// HasLocal reports whether one of this process's sockets is in room.
func (s *Server) HasLocal(room string) bool {
	set, ok := s.IO.Sockets().Adapter().Rooms().Load(socket.Room(room))
	return ok && set.Len() > 0
}
