package handlers

import (
	"github.com/ordercast/ordercast/presence"
	"github.com/ordercast/ordercast/rooms"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// A socket counts in presence (Presence) from its connection to its
// disconnect, and in each order from its subscribe until it leaves the
// order's room, however it leaves.

// connected counts a socket once its connection is complete (a socket
// refused or gone before that never says disconnect): its role, and the
// subscriptions a recovered socket brought along.
func (h *socketEvents) connected(s *socket.Socket) {
	sess, ok := s.Data().(*session)
	if !ok {
		return
	}
	// Rooms are left before "disconnect" says so: from "disconnecting" on,
	// leftRoom leaves the subscriptions to close, which keeps them for a
	// recovery.
	_ = s.On("disconnecting", func(...any) { sess.closing() })
	_ = s.On("disconnect", func(...any) { sess.close() })
	sess.start()
}

// leftRoom uncounts a socket that left an order's room without
// unsubscribing: its token was revoked, or any other way the server has
// to make a socket leave. (After an unsubscribe, leave found nothing.)
func (h *socketEvents) leftRoom(room string, data any) {
	sess, ok := data.(*session)
	id, isOrder := rooms.OrderID(room)
	if !ok || !isOrder {
		return
	}
	sess.mu.Lock()
	disconnecting := sess.disconnecting
	sess.mu.Unlock()
	if !disconnecting {
		sess.leave(id)
	}
}

// start counts the session: its role, and the subscriptions it has.
func (s *session) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live || s.closed {
		return
	}
	s.live = true
	for id := range s.subs {
		s.book.Join(id, s.staff != nil)
	}
	if s.staff != nil {
		s.book.StaffOnline(1)
	}
}

// join notes a subscription and returns the order's counts with it.
func (s *session) join(orderID string) presence.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[orderID] || !s.live || s.closed {
		s.subs[orderID] = true
		return s.book.Total(orderID) // counted already, or not at all
	}
	s.subs[orderID] = true
	return s.book.Join(orderID, s.staff != nil)
}

// leave ends a subscription (unsubscribe, or a revoked token).
func (s *session) leave(orderID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.subs[orderID] {
		return
	}
	delete(s.subs, orderID)
	delete(s.typed, orderID)
	if s.live && !s.closed {
		s.book.Leave(orderID, s.staff != nil)
	}
}

func (s *session) closing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disconnecting = true
}

// close uncounts a disconnected socket. Its subs stay, for recovery.
func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if !s.live {
		return
	}
	for id := range s.subs {
		s.book.Leave(id, s.staff != nil)
	}
	if s.staff != nil {
		s.book.StaffOnline(-1)
	}
}
