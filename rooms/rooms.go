// Package rooms names ordercast's Socket.IO rooms, decides who may join
// them, and holds the Hub: the one place that emits to rooms.
package rooms

import "github.com/zishang520/socket.io/servers/socket/v3"

// Rooms of the contract.
const (
	Support socket.Room = "support"
	Admin   socket.Room = "admin"
)

// Order is the room of one order's subscribers.
func Order(id string) socket.Room { return socket.Room("order-" + id) }

// ForStaff lists the rooms a staff socket joins on connect.
func ForStaff(admin bool) []socket.Room {
	if admin {
		return []socket.Room{Support, Admin}
	}
	return []socket.Room{Support}
}
