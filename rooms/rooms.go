// Package rooms names ordercast's Socket.IO rooms, decides who may join
// them, and holds the Hub: the one place that emits to rooms.
package rooms

import (
	"strings"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Rooms of the contract.
const (
	Support socket.Room = "support"
	Admin   socket.Room = "admin"
)

// Order is the room of one order's subscribers.
func Order(id string) socket.Room { return socket.Room(orderPrefix + id) }

const orderPrefix = "order-"

// OrderID is the order whose room room is.
func OrderID(room string) (string, bool) { return strings.CutPrefix(room, orderPrefix) }

// ForStaff lists the rooms a staff socket joins on connect.
func ForStaff(admin bool) []socket.Room {
	if admin {
		return []socket.Room{Support, Admin}
	}
	return []socket.Room{Support}
}

// Kinds of named rooms, as stats and metrics count them.
const (
	KindOrder   = "order"
	KindSupport = "support"
	KindAdmin   = "admin"
)

// Kind is the kind of a named room, or "" for any other room.
func Kind(room string) string {
	switch {
	case strings.HasPrefix(room, orderPrefix):
		return KindOrder
	case room == string(Support):
		return KindSupport
	case room == string(Admin):
		return KindAdmin
	}
	return ""
}
