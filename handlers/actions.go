package handlers

import (
	"context"
	"fmt"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/orders"
)

// The actions below are shared by the HTTP API and the Socket.IO events,
// so both ways in follow one set of rules. Each stores first, then
// publishes: a subscriber that misses the broadcast finds the event by seq.

func (h *Handlers) createOrder(ctx context.Context, in orders.NewOrder) (orders.Order, string, error) {
	o, first, err := orders.New(in, h.now())
	if err != nil {
		return orders.Order{}, "", err
	}
	token, hash := auth.NewTrackingToken()
	o, first, err = h.store.CreateOrder(ctx, o, hash, first)
	if err != nil {
		return orders.Order{}, "", fmt.Errorf("create order %s: %w", o.ID, err)
	}
	h.pub.OrderCreated(o)
	h.pub.Publish(first)
	return o, token, nil
}

func (h *Handlers) changeStatus(ctx context.Context, c Caller, id, status, note string) (orders.Event, error) {
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
	e, _, err := h.store.Append(ctx, id, orders.ChangeStatus{To: to, Note: note, By: c.Name()})
	if err != nil {
		return orders.Event{}, fmt.Errorf("change status of order %s: %w", id, err)
	}
	h.pub.Publish(e)
	return e, nil
}

// postMessage stores a chat message. A customer may only write to the order
// whose token it presented (c.CustomerOf).
func (h *Handlers) postMessage(ctx context.Context, c Caller, id, text string) (orders.Event, error) {
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
	e, _, err := h.store.Append(ctx, id, orders.PostMessage{From: from, Author: c.Name(), Text: text})
	if err != nil {
		return orders.Event{}, fmt.Errorf("post message to order %s: %w", id, err)
	}
	h.pub.Publish(e)
	return e, nil
}

// orderSince returns o (as canRead read it) and its events after seq
// since. Events stored after o was read are applied to it, so the order
// is never older than the events sent with it.
func (h *Handlers) orderSince(ctx context.Context, o orders.Order, since int64) (orders.Order, []orders.Event, error) {
	events, err := h.store.Events(ctx, o.ID, since)
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
