package sockets

import "github.com/zishang520/socket.io/servers/socket/v3"

// OnLeave calls fn whenever a connected socket of this process leaves a
// room, however it was made to (its own Leave, a disconnect, or a
// SocketsLeave from any process through the adapter), with the socket's
// Data. It listens to the adapter's "leave-room" event, which the in-memory
// and the Redis adapter both emit for the local sockets.
func (s *Server) OnLeave(fn func(room string, data any)) {
	nsp := s.IO.Sockets()
	_ = nsp.Adapter().On("leave-room", func(args ...any) {
		if len(args) < 2 {
			return
		}
		room, _ := args[0].(socket.Room)
		id, _ := args[1].(socket.SocketId)
		if so, ok := nsp.Sockets().Load(id); ok {
			fn(string(room), so.Data())
		}
	})
}
