package handlers

import (
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/limits"
	"github.com/ordercast/ordercast/rooms"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// AckObserver is told the result of every ack a socket event sends:
// "ok" or the error code (metrics).
type AckObserver interface {
	Ack(event, result string)
}

// ReplyBatcher writes the ack that reply writes to s together with the
// acks of the events queued behind it on s (sockets.Server).
type ReplyBatcher interface {
	BatchReplies(s *socket.Socket, reply func())
}

// socketEvents serve the Socket.IO namespace "/": the handshake's
// credential, then every client event (socketevents.go).
type socketEvents struct {
	act     *orderActions
	signer  *auth.Signer
	rate    float64
	burst   int
	now     func() time.Time
	acks    AckObserver  // may be nil
	replies ReplyBatcher // may be nil: each ack is written at once
	book    Presence
	log     *slog.Logger
	events  map[string]eventHandler // socketevents.go
}

// session is what the server knows about one socket, kept in its Data.
type session struct {
	sid     string
	staff   *auth.Staff
	limiter *limits.Events
	book    Presence

	mu sync.Mutex
	// subs maps the orders this socket subscribed to with a valid token
	// (or as staff) to true.
	subs map[string]bool
	// tokens maps the orders a customer follows to the version of the
	// token it subscribed with (socketaccess.go).
	tokens map[string]int64
	// recovering holds a recovered socket's tokens until it is connected.
	recovering map[string]int64
	// typed: when each order's last typing signal was relayed (desk.go).
	typed map[string]time.Time
	// live: the connection completed and the socket is counted in book;
	// closed: it disconnected and is counted no more.
	live, closed bool
	// disconnecting: the socket is leaving its rooms on its way out.
	disconnecting bool
}

func (s *session) caller(orderID string) Caller {
	c := Caller{Staff: s.staff}
	s.mu.Lock()
	if s.subs[orderID] {
		c.CustomerOf = orderID
	}
	s.mu.Unlock()
	return c
}

// authenticate is the Socket.IO middleware of namespace "/": it checks a
// staff token when one is presented, joins staff to their rooms, and
// registers the socket's event handlers before its CONNECT is sent, so an
// emit right after 'connect' always finds its handler.
func (h *socketEvents) authenticate(s *socket.Socket, next func(*socket.ExtendedError)) {
	sess := &session{sid: string(s.Id()), subs: map[string]bool{}, tokens: map[string]int64{},
		typed: map[string]time.Time{}, book: h.book,
		limiter: limits.NewEvents(h.rate, h.burst, h.now)}
	if tok, present := handshakeToken(s); present {
		staff, err := h.signer.Verify(tok)
		if err != nil {
			h.log.Info("handshake refused", "reason", authMessage(err), "remote", s.Handshake().Address)
			next(socket.NewExtendedError(authMessage(err), map[string]any{"code": CodeUnauthorized}))
			return
		}
		sess.staff = &staff
	}
	if prev, ok := s.Data().(*session); ok && s.Recovered() {
		// Recovered sockets keep their subscriptions (the adapter restored
		// the rooms); the credential was checked again above, a customer's
		// token version is checked again once connected (readmit).
		prev.mu.Lock()
		for id := range prev.subs {
			sess.subs[id] = true
		}
		sess.recovering = maps.Clone(prev.tokens)
		prev.mu.Unlock()
	}
	s.SetData(sess)
	_ = s.On("disconnect", func(...any) { h.forgetAll(sess) })
	h.register(s, sess)
	if sess.staff != nil {
		s.Join(rooms.ForStaff(sess.staff.IsAdmin())...)
	}
	next(nil)
}

// handshakeToken returns auth.token; present is true when the client sent
// any token value at all, so that a wrong type is refused, not ignored.
func handshakeToken(s *socket.Socket) (string, bool) {
	a := s.Handshake().Auth
	if a == nil {
		return "", false
	}
	v, ok := a["token"]
	if !ok || v == nil {
		return "", false
	}
	tok, _ := v.(string)
	if tok == "" {
		return "", true
	}
	return tok, true
}

// logConnections logs one line per connection and one per disconnect, with
// its reason; never the handshake's auth.
func (h *socketEvents) logConnections(s *socket.Socket) {
	role := "customer"
	if sess, ok := s.Data().(*session); ok && sess.staff != nil {
		role = sess.staff.Role
	}
	h.log.Info("socket connected", "sid", s.Id(), "transport", s.Conn().Transport().Name(),
		"role", role, "recovered", s.Recovered(), "remote", s.Handshake().Address)
	_ = s.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		h.log.Info("socket disconnected", "sid", s.Id(), "reason", reason)
	})
}
