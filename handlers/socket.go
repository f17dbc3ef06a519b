package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/limits"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Socket.IO events a client may send.
const (
	EvSubscribe    = "order:subscribe"
	EvUnsubscribe  = "order:unsubscribe"
	EvMessage      = "order:message"
	EvUpdateStatus = "order:update-status"
)

// maxRoomsPerSocket caps how many orders one socket may follow.
const maxRoomsPerSocket = 100

// eventTimeout bounds the store work of one socket event.
const eventTimeout = 10 * time.Second

// session is what the server knows about one socket, kept in its Data.
type session struct {
	staff   *auth.Staff
	limiter *limits.Events

	mu sync.Mutex
	// subs maps the orders this socket subscribed to with a valid token
	// (or as staff) to true.
	subs map[string]bool
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

// Authenticate is the Socket.IO middleware of namespace "/": it checks a
// staff token when one is presented, joins staff to their rooms, and
// registers the socket's event handlers before its CONNECT is sent, so an
// emit right after 'connect' always finds its handler.
func (h *Handlers) Authenticate(s *socket.Socket, next func(*socket.ExtendedError)) {
	sess := &session{subs: map[string]bool{}, limiter: limits.NewEvents(h.cfg.EventRate, h.cfg.EventBurst, h.now)}
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
		// the rooms); the credential was checked again above.
		prev.mu.Lock()
		for id := range prev.subs {
			sess.subs[id] = true
		}
		prev.mu.Unlock()
	}
	s.SetData(sess)
	h.registerEvents(s, sess)
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

func (h *Handlers) registerEvents(s *socket.Socket, sess *session) {
	on := func(event string, fn func(ctx context.Context, payload json.RawMessage) (map[string]any, error)) {
		_ = s.On(event, func(args ...any) {
			payload, ack := splitArgs(args)
			ack = h.observeAck(event, ack)
			if ok, abusive := sess.limiter.Allow(); !ok {
				if abusive {
					h.log.Warn("socket disconnected for flooding", "sid", s.Id())
					s.Disconnect(true)
					return
				}
				reply(ack, h.ackError(event, errRateLimited))
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
			defer cancel()
			res, err := fn(ctx, payload)
			if err != nil {
				reply(ack, h.ackError(event, err))
				return
			}
			res["ok"] = true
			reply(ack, res)
		})
	}
	on(EvSubscribe, func(ctx context.Context, p json.RawMessage) (map[string]any, error) {
		return h.subscribe(ctx, s, sess, p)
	})
	on(EvUnsubscribe, func(_ context.Context, p json.RawMessage) (map[string]any, error) {
		var in struct {
			OrderID string `json:"orderId"`
		}
		if err := decodePayload(p, &in); err != nil {
			return nil, err
		}
		if err := requireID(in.OrderID); err != nil {
			return nil, err
		}
		sess.mu.Lock()
		delete(sess.subs, in.OrderID)
		sess.mu.Unlock()
		s.Leave(rooms.Order(in.OrderID))
		return map[string]any{}, nil
	})
	on(EvMessage, func(ctx context.Context, p json.RawMessage) (map[string]any, error) {
		var in struct {
			OrderID string `json:"orderId"`
			Text    string `json:"text"`
		}
		if err := decodePayload(p, &in); err != nil {
			return nil, err
		}
		if err := requireID(in.OrderID); err != nil {
			return nil, err
		}
		e, err := h.postMessage(ctx, sess.caller(in.OrderID), in.OrderID, in.Text)
		if err != nil {
			return nil, err
		}
		return map[string]any{"event": e}, nil
	})
	on(EvUpdateStatus, func(ctx context.Context, p json.RawMessage) (map[string]any, error) {
		var in struct {
			OrderID string  `json:"orderId"`
			Status  *string `json:"status"`
			Note    string  `json:"note"`
		}
		if err := decodePayload(p, &in); err != nil {
			return nil, err
		}
		if err := requireID(in.OrderID); err != nil {
			return nil, err
		}
		if sess.staff == nil {
			return nil, forbidden("only staff may change an order's status")
		}
		if in.Status == nil {
			return nil, badRequest("status: is required")
		}
		e, err := h.changeStatus(ctx, sess.caller(in.OrderID), in.OrderID, *in.Status, in.Note)
		if err != nil {
			return nil, err
		}
		return map[string]any{"event": e}, nil
	})
}

// subscribe checks the credential, joins the order's room FIRST, then reads
// the events after since: an event published in between arrives twice at
// worst (clients drop it by seq), never zero times.
func (h *Handlers) subscribe(ctx context.Context, s *socket.Socket, sess *session, p json.RawMessage) (map[string]any, error) {
	var in struct {
		OrderID string `json:"orderId"`
		Token   string `json:"token"`
		Since   *int64 `json:"since"`
	}
	if err := decodePayload(p, &in); err != nil {
		return nil, err
	}
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	var since int64
	if in.Since != nil {
		if *in.Since < 0 {
			return nil, badRequest("since: must not be negative")
		}
		since = *in.Since
	}
	_, o, err := h.canRead(ctx, Caller{Staff: sess.staff}, in.OrderID, in.Token)
	if err != nil {
		return nil, err
	}
	sess.mu.Lock()
	if !sess.subs[in.OrderID] && len(sess.subs) >= maxRoomsPerSocket {
		sess.mu.Unlock()
		return nil, badRequest(fmt.Sprintf("a socket may follow at most %d orders", maxRoomsPerSocket))
	}
	sess.subs[in.OrderID] = true
	sess.mu.Unlock()
	s.Join(rooms.Order(in.OrderID))
	// Events are read after Join, so none is missed in between.
	o, events, err := h.orderSince(ctx, o, since)
	if err != nil {
		return nil, err
	}
	h.pub.Watch(o.ID, o.LastSeq)
	return map[string]any{"order": o, "events": events}, nil
}

func requireID(id string) error {
	if !orders.ValidID(id) {
		return badRequest("orderId: must be 1-64 of A-Z a-z 0-9 _ -")
	}
	return nil
}

// splitArgs separates an event's payload from its ack callback. A missing
// ack is allowed: the event is handled and nothing is answered.
func splitArgs(args []any) (json.RawMessage, socket.Ack) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			ack = a
			args = args[:n-1]
		}
	}
	if len(args) == 0 {
		return nil, ack
	}
	b, err := json.Marshal(args[0])
	if err != nil {
		return nil, ack
	}
	return b, ack
}

// decodePayload decodes an event payload strictly: it must be one object
// whose fields have the contract's types.
func decodePayload(p json.RawMessage, v any) error {
	if len(p) == 0 || p[0] != '{' {
		return badRequest("payload must be an object")
	}
	if err := json.Unmarshal(p, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// observeAck wraps ack so that the Acks observer learns each result.
func (h *Handlers) observeAck(event string, ack socket.Ack) socket.Ack {
	if ack == nil || h.acks == nil {
		return ack
	}
	return func(args []any, err error) {
		result := "ok"
		if len(args) > 0 {
			if v, ok := args[0].(map[string]any); ok && v["ok"] != true {
				result = CodeInternal
				if e, ok := v["error"].(*Error); ok {
					result = e.Code
				}
			}
		}
		h.acks.Ack(event, result)
		ack(args, err)
	}
}

func reply(ack socket.Ack, v map[string]any) {
	if ack != nil {
		ack([]any{v}, nil)
	}
}

// LogConnections logs one line per connection and one per disconnect, with
// its reason; never the handshake's auth.
func (h *Handlers) LogConnections(io *socket.Server) {
	_ = io.On("connection", func(args ...any) {
		s, ok := args[0].(*socket.Socket)
		if !ok {
			return
		}
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
	})
}
