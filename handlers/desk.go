package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/presence"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// The support desk's socket events (contract 0.2): typing, assignment,
// and the presence counts kept as sockets subscribe, leave and go.

// Socket.IO events of the support desk a client may send.
const (
	EvTyping = "order:typing"
	EvAssign = "order:assign"
)

// Desk sends the desk's signals (rooms.Hub).
type Desk interface {
	Typing(t orders.Typing, sender string)
	Assigned(a orders.Assignment)
}

// Presence counts the sockets here (presence.Book).
type Presence interface {
	Join(orderID string, staff bool) presence.Counts
	Leave(orderID string, staff bool)
	StaffOnline(d int) int
	Total(orderID string) presence.Counts
	Online() int
}

// TypingInterval is the least time between two relayed typing signals of
// one socket and order; those in between are dropped.
const TypingInterval = time.Second

type typingIn struct {
	OrderID string `json:"orderId"`
}

// typing relays "someone writes" to the order's room and support, never
// back to the sender. A customer must have subscribed to the order.
func (h *socketEvents) typing(ctx context.Context, s *socket.Socket, sess *session, in typingIn) (map[string]any, error) {
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	if sess.staff == nil && !sess.subscribed(in.OrderID) {
		return nil, forbidden("subscribe to this order with its token first")
	}
	if !sess.mayType(in.OrderID, h.now()) {
		return map[string]any{}, nil // throttled: dropped, not an error
	}
	o, err := h.act.store.GetOrder(ctx, in.OrderID)
	if err != nil {
		sess.forgetTyping(in.OrderID)
		return nil, fmt.Errorf("typing in order %s: %w", in.OrderID, err)
	}
	from, author := orders.FromCustomer, ""
	if sess.staff != nil {
		from, author = orders.FromSupport, sess.staff.Name
	}
	h.act.desk.Typing(o.Typing(from, author), string(s.Id()))
	return map[string]any{}, nil
}

type assignIn struct {
	OrderID string `json:"orderId"`
	// Assignee absent: take it; a string: give it; null: release it.
	Assignee json.RawMessage `json:"assignee"`
}

func (h *socketEvents) assign(ctx context.Context, _ *socket.Socket, sess *session, in assignIn) (map[string]any, error) {
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	if sess.staff == nil {
		return nil, forbidden("only staff may assign an order")
	}
	to := orders.AssignTo{Take: in.Assignee == nil}
	if in.Assignee != nil && string(in.Assignee) != "null" {
		var name string
		if err := json.Unmarshal(in.Assignee, &name); err != nil {
			return nil, badRequest("assignee: must be a staff name, or null to release")
		}
		to.Name = &name
	}
	o, err := h.act.assign(ctx, sess.caller(in.OrderID), in.OrderID, to)
	if err != nil {
		return nil, err
	}
	return map[string]any{"order": o}, nil
}

// assign stores who handles an order and tells support.
func (a *orderActions) assign(ctx context.Context, c Caller, id string, to orders.AssignTo) (orders.Order, error) {
	if !c.Trusted() {
		return orders.Order{}, forbidden("only staff may assign an order")
	}
	as, err := orders.Assign(id, to, c.Name(), a.now())
	if err != nil {
		return orders.Order{}, err
	}
	o, err := a.store.SetAssignee(ctx, id, as.Assignee)
	if err != nil {
		return orders.Order{}, fmt.Errorf("assign order %s: %w", id, err)
	}
	a.desk.Assigned(as)
	return o, nil
}

// connected counts a socket once its connection is complete (a socket
// refused or gone before that never says disconnect): its role, and the
// subscriptions a recovered socket brought along.
func (h *socketEvents) connected(s *socket.Socket) {
	sess, ok := s.Data().(*session)
	if !ok {
		return
	}
	_ = s.On("disconnect", func(...any) { sess.close() })
	sess.start()
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

func (s *session) subscribed(orderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs[orderID]
}

// mayType reports whether a typing signal for orderID may be relayed now,
// and if so counts it as relayed.
func (s *session) mayType(orderID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.typed[orderID]; ok && now.Sub(last) < TypingInterval {
		return false
	}
	if len(s.typed) >= maxRoomsPerSocket {
		clear(s.typed) // only staff type without a subscription: bounded
	}
	s.typed[orderID] = now
	return true
}

func (s *session) forgetTyping(orderID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.typed, orderID)
}
