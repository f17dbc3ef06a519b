package handlers

import (
	"context"
	"fmt"
	"time"

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

// eventHandler handles one client event of socket s; args are the
// event's arguments after its name, its ack last if it asked for one.
type eventHandler func(s *socket.Socket, sess *session, args []any)

// IsClientEvent tells whether name is a client event of the contract,
// one the server handles.
func IsClientEvent(name string) bool {
	switch name {
	case EvSubscribe, EvUnsubscribe, EvMessage, EvUpdateStatus, EvTyping, EvAssign:
		return true
	}
	return false
}

// handlers is every client event of the contract. It is built once per
// server: a socket holds one listener (register), not one per event, as
// an idle connection is what a server holds most of.
func (h *socketEvents) handlers() map[string]eventHandler {
	return map[string]eventHandler{
		EvSubscribe:    on(h, EvSubscribe, h.subscribe),
		EvUnsubscribe:  on(h, EvUnsubscribe, h.unsubscribe),
		EvMessage:      on(h, EvMessage, h.message),
		EvUpdateStatus: on(h, EvUpdateStatus, h.updateStatus),
		EvTyping:       on(h, EvTyping, h.typing),
		EvAssign:       on(h, EvAssign, h.assign),
	}
}

// register routes s's events to their handlers, and answers any other
// event that asks for an ack with bad_request. The listener runs in the
// socket's task queue, where the library would have emitted the event to
// per-event listeners a step later (after socket middlewares, of which
// ordercast has none).
func (h *socketEvents) register(s *socket.Socket, sess *session) {
	s.OnAny(func(args ...any) {
		if !s.Connected() {
			return // as the library's dispatch: nothing after a disconnect
		}
		name, _ := args[0].(string)
		if handle, ok := h.events[name]; ok {
			handle(s, sess, args[1:])
			return
		}
		ack := splitAck(args[1:])
		reply(h.wrapAck(s, "other", ack), ackError(h.log, "other", badRequest("unknown event")))
	})
}

// on handles event with fn behind the one wrapper every event shares: the
// socket's rate limit, one strict decoding of the payload into T (unknown
// fields are bad_request, as in HTTP bodies), a deadline, and the ack
// (fn's result with ok: true, or the error through the one mapper).
func on[T any](h *socketEvents, event string,
	fn func(ctx context.Context, s *socket.Socket, sess *session, in T) (map[string]any, error)) eventHandler {
	return func(s *socket.Socket, sess *session, args []any) {
		ack := h.wrapAck(s, event, splitAck(args))
		if ok, abusive := sess.limiter.Allow(); !ok {
			if abusive {
				h.log.Warn("socket disconnected for flooding", "sid", s.Id())
				s.Disconnect(true)
				return
			}
			reply(ack, ackError(h.log, event, errRateLimited))
			return
		}
		var in T
		if err := decodeArgs(args, &in); err != nil {
			reply(ack, ackError(h.log, event, err))
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		defer cancel()
		res, err := fn(ctx, s, sess, in)
		if err != nil {
			reply(ack, ackError(h.log, event, err))
			return
		}
		res["ok"] = true
		reply(ack, res)
	}
}

type subscribeIn struct {
	OrderID string `json:"orderId"`
	Token   string `json:"token"`
	Since   *int64 `json:"since"`
}

// subscribe checks the credential, joins the order's room FIRST, then reads
// the events after since: an event published in between arrives twice at
// worst (clients drop it by seq), never zero times.
func (h *socketEvents) subscribe(ctx context.Context, s *socket.Socket, sess *session, in subscribeIn) (map[string]any, error) {
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
	_, o, err := h.act.canRead(ctx, Caller{Staff: sess.staff}, in.OrderID, in.Token)
	if err != nil {
		return nil, err
	}
	sess.mu.Lock()
	if !sess.subs[in.OrderID] && len(sess.subs) >= maxRoomsPerSocket {
		sess.mu.Unlock()
		return nil, badRequest(fmt.Sprintf("a socket may follow at most %d orders", maxRoomsPerSocket))
	}
	sess.mu.Unlock()
	s.Join(rooms.Order(in.OrderID))
	here := sess.join(in.OrderID) // counted once in the room: it sees the change too
	if err := h.admit(sess, o); err != nil {
		return nil, err
	}
	// Events are read after Join, so none is missed in between.
	o, events, err := h.act.orderSince(ctx, o, since)
	if err != nil {
		return nil, err
	}
	h.act.pub.Watch(o.ID, o.LastSeq)
	return map[string]any{"order": o, "events": events, "presence": here, "supportOnline": h.book.Online()}, nil
}

type unsubscribeIn struct {
	OrderID string `json:"orderId"`
}

func (h *socketEvents) unsubscribe(_ context.Context, s *socket.Socket, sess *session, in unsubscribeIn) (map[string]any, error) {
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	sess.leave(in.OrderID)
	h.forget(sess, in.OrderID)
	s.Leave(rooms.Order(in.OrderID))
	return map[string]any{}, nil
}

type messageIn struct {
	OrderID string `json:"orderId"`
	Text    string `json:"text"`
}

func (h *socketEvents) message(ctx context.Context, _ *socket.Socket, sess *session, in messageIn) (map[string]any, error) {
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	e, err := h.act.postMessage(ctx, sess.caller(in.OrderID), in.OrderID, in.Text)
	if err != nil {
		return nil, err
	}
	return map[string]any{"event": e}, nil
}

type updateStatusIn struct {
	OrderID string  `json:"orderId"`
	Status  *string `json:"status"`
	Note    string  `json:"note"`
}

func (h *socketEvents) updateStatus(ctx context.Context, _ *socket.Socket, sess *session, in updateStatusIn) (map[string]any, error) {
	if err := requireID(in.OrderID); err != nil {
		return nil, err
	}
	if sess.staff == nil {
		return nil, forbidden("only staff may change an order's status")
	}
	if in.Status == nil {
		return nil, badRequest("status: is required")
	}
	e, err := h.act.changeStatus(ctx, sess.caller(in.OrderID), in.OrderID, *in.Status, in.Note)
	if err != nil {
		return nil, err
	}
	return map[string]any{"event": e}, nil
}

func requireID(id string) error {
	if !orders.ValidID(id) {
		return badRequest("orderId: must be 1-64 of A-Z a-z 0-9 _ -")
	}
	return nil
}

// wrapAck wraps the ack of event on s: the Acks observer learns each
// result, the result is encoded here (ackjson.go), and the Replies
// batcher writes it with the acks of the events queued behind it.
func (h *socketEvents) wrapAck(s *socket.Socket, event string, ack socket.Ack) socket.Ack {
	if ack == nil {
		return nil
	}
	return func(args []any, err error) {
		if h.acks != nil {
			h.acks.Ack(event, ackResult(args))
		}
		args = encodedAck(args)
		if h.replies == nil {
			ack(args, err)
			return
		}
		h.replies.BatchReplies(s, func() { ack(args, err) })
	}
}

// ackResult is "ok" or the error code of an ack's arguments.
func ackResult(args []any) string {
	if len(args) > 0 {
		if v, ok := args[0].(map[string]any); ok && v["ok"] != true {
			if e, ok := v["error"].(*Error); ok {
				return e.Code
			}
			return CodeInternal
		}
	}
	return "ok"
}

func reply(ack socket.Ack, v map[string]any) {
	if ack != nil {
		ack([]any{v}, nil)
	}
}
