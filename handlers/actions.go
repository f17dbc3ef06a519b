package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
)

// orderStore is what the actions need of the store.
type orderStore interface {
	CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error)
	GetOrder(ctx context.Context, id string) (orders.Order, error)
	OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error)
	Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error)
	Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error)
	ReplaceTrackingToken(ctx context.Context, id string, hash []byte) (int64, error)
	SetAssignee(ctx context.Context, orderID string, assignee *string) (orders.Order, error)
	// EventsSince reads the events after since of an order whose LastSeq,
	// known, the caller read from the store (a cache may answer).
	EventsSince(ctx context.Context, orderID string, since, known int64) ([]orders.Event, error)
}

// Publisher delivers stored events to whoever watches them (rooms.Hub).
type Publisher interface {
	Publish(e orders.Event)
	OrderCreated(o orders.Order)
	// Watch notes that a subscriber of an order has its events up to seq,
	// so that the live ones that follow reach it in seq order.
	Watch(orderID string, seq int64)
	// TokenReplaced cuts off, on every process, what follows the order
	// with a token older than version.
	TokenReplaced(orderID string, version int64)
	// Admit registers a member following the order with token version;
	// false when that token was replaced already. Forget drops it.
	Admit(orderID string, m rooms.Member, version int64) bool
	Forget(orderID string, m rooms.Member)
}

// orderActions are shared by the HTTP API and the Socket.IO events, so both
// ways in follow one set of rules. Each stores first, then publishes: a
// subscriber that misses the broadcast finds the event by seq.
type orderActions struct {
	store orderStore
	pub   Publisher
	desk  Desk
	now   func() time.Time
}

func (a *orderActions) createOrder(ctx context.Context, in orders.NewOrder) (orders.Order, string, error) {
	o, first, err := orders.New(in, a.now())
	if err != nil {
		return orders.Order{}, "", err
	}
	token, hash := auth.NewTrackingToken()
	o, first, err = a.store.CreateOrder(ctx, o, hash, first)
	if err != nil {
		return orders.Order{}, "", fmt.Errorf("create order %s: %w", o.ID, err)
	}
	a.pub.OrderCreated(o)
	a.pub.Publish(first)
	return o, token, nil
}

func (a *orderActions) changeStatus(ctx context.Context, c Caller, id, status, note string) (orders.Event, error) {
	if !c.Trusted() {
		return orders.Event{}, forbidden("customers cannot change an order's status")
	}
	to, ok := orders.ParseStatus(status)
	if !ok {
		return orders.Event{}, badRequest(fmt.Sprintf("status: unknown status %q", status))
	}
	note, err := orders.CheckNote(note)
	if err != nil {
		return orders.Event{}, err
	}
	e, _, err := a.store.Append(ctx, id, orders.ChangeStatus{To: to, Note: note, By: c.Name()})
	if err != nil {
		return orders.Event{}, fmt.Errorf("change status of order %s: %w", id, err)
	}
	a.pub.Publish(e)
	return e, nil
}

// reissueToken gives order id a new tracking token: the store keeps its
// hash and a new version, so the old token fails every check from now on,
// and what follows the order with it is cut off on every process.
func (a *orderActions) reissueToken(ctx context.Context, id string) (string, error) {
	token, hash := auth.NewTrackingToken()
	v, err := a.store.ReplaceTrackingToken(ctx, id, hash)
	if err != nil {
		return "", fmt.Errorf("reissue token of order %s: %w", id, err)
	}
	a.pub.TokenReplaced(id, v)
	return token, nil
}

// postMessage stores a chat message. A customer may only write to the order
// whose token it presented (c.CustomerOf).
func (a *orderActions) postMessage(ctx context.Context, c Caller, id, text string) (orders.Event, error) {
	text, err := orders.CheckMessage(text)
	if err != nil {
		return orders.Event{}, err
	}
	if !c.Trusted() && c.CustomerOf != id {
		return orders.Event{}, forbidden("subscribe to this order with its token first")
	}
	from := orders.FromCustomer
	if c.Trusted() {
		from = orders.FromSupport
	}
	e, _, err := a.store.Append(ctx, id, orders.PostMessage{From: from, Author: c.Name(), Text: text})
	if err != nil {
		return orders.Event{}, fmt.Errorf("post message to order %s: %w", id, err)
	}
	a.pub.Publish(e)
	return e, nil
}

// canRead checks that c may read order id, checking a customer token
// against its stored hash. It returns the caller with CustomerOf set and
// the order, read in the same query as the hash so that callers need not
// read it again (orderSince brings it up to date with the events).
func (a *orderActions) canRead(ctx context.Context, c Caller, id, token string) (Caller, orders.Order, error) {
	if c.Trusted() {
		o, err := a.store.GetOrder(ctx, id)
		return c, o, err
	}
	if token == "" {
		return c, orders.Order{}, unauthorized("tracking token required")
	}
	o, hash, err := a.store.OrderWithTokenHash(ctx, id)
	if err != nil {
		return c, orders.Order{}, fmt.Errorf("check token of order %s: %w", id, err)
	}
	if !auth.CheckTrackingToken(token, hash) {
		return c, orders.Order{}, forbidden("this token is not for this order")
	}
	c.CustomerOf = id
	return c, o, nil
}

// orderSince returns o (as canRead read it) and its events after seq
// since. Events stored after o was read are applied to it, so the order
// is never older than the events sent with it.
func (a *orderActions) orderSince(ctx context.Context, o orders.Order, since int64) (orders.Order, []orders.Event, error) {
	events, err := a.store.EventsSince(ctx, o.ID, since, o.LastSeq)
	if err != nil {
		return o, nil, fmt.Errorf("load events of order %s: %w", o.ID, err)
	}
	if events == nil {
		events = []orders.Event{}
	}
	for _, e := range events {
		o.Apply(e)
	}
	return o, events, nil
}
