package handlers

import (
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// A session is a rooms.Member for each order it follows with a tracking
// token, so that replacing the token cuts it off (rooms.Hub).
var _ rooms.Member = (*session)(nil)

// SocketID is the socket's id: the hub tells it about the revocation there.
func (s *session) SocketID() string { return s.sid }

// Revoked forgets the customer's access to orderID and uncounts it from the
// order's presence (leave), before the hub makes the socket leave the room:
// the room hook then finds nothing left to uncount.
func (s *session) Revoked(orderID string) {
	s.mu.Lock()
	_, ok := s.tokens[orderID]
	delete(s.tokens, orderID)
	s.mu.Unlock()
	if ok {
		s.leave(orderID)
	}
}

// admit registers a customer's subscription to o with the token version it
// was checked against, after the socket joined the room: a token replaced
// in between (on any process) is refused here, and the hub makes the socket
// leave again (and tells it). Staff follow orders without a token and are
// never cut off.
func (h *socketEvents) admit(sess *session, o orders.Order) error {
	if sess.staff != nil {
		return nil
	}
	sess.mu.Lock()
	sess.tokens[o.ID] = o.TokenVersion
	sess.mu.Unlock()
	if !h.act.pub.Admit(o.ID, sess, o.TokenVersion) {
		return forbidden("this tracking token was replaced")
	}
	return nil
}

// forget drops the socket's registration for orderID (unsubscribe).
func (h *socketEvents) forget(sess *session, orderID string) {
	sess.mu.Lock()
	_, ok := sess.tokens[orderID]
	delete(sess.tokens, orderID)
	sess.mu.Unlock()
	if ok {
		h.act.pub.Forget(orderID, sess)
	}
}

// forgetAll drops every registration of a socket that disconnected. The
// session keeps its tokens: a socket recovered from it is admitted again
// with them (readmit).
func (h *socketEvents) forgetAll(sess *session) {
	sess.mu.Lock()
	ids := make([]string, 0, len(sess.tokens))
	for id := range sess.tokens {
		ids = append(ids, id)
	}
	sess.mu.Unlock()
	for _, id := range ids {
		h.act.pub.Forget(id, sess)
	}
}

// readmit registers a recovered socket's customer subscriptions again,
// with the versions it had, once it is connected (before, the hub could
// neither find it nor tell it): one whose token was replaced meanwhile is
// cut off by the hub, as a revocation would have.
func (h *socketEvents) readmit(s *socket.Socket) {
	sess, ok := s.Data().(*session)
	if !ok {
		return
	}
	sess.mu.Lock()
	tokens := sess.recovering
	sess.recovering = nil
	sess.mu.Unlock()
	for id, v := range tokens {
		if err := h.admit(sess, orders.Order{ID: id, TokenVersion: v}); err != nil {
			h.log.Info("recovered subscription refused: token replaced", "sid", s.Id(), "order", id)
		}
	}
}
