package handlers

import (
	"context"
	"fmt"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/orders"
)

// Caller is who is acting: the shop backend, a staff member, or a customer
// holding one order's tracking token.
type Caller struct {
	Service bool
	Staff   *auth.Staff
	// CustomerOf is the order whose tracking token was presented.
	CustomerOf string
}

// Trusted reports whether the caller may act on any order.
func (c Caller) Trusted() bool { return c.Service || c.Staff != nil }

// Name is how a status change records its author.
func (c Caller) Name() string {
	if c.Staff != nil {
		return c.Staff.Name
	}
	return "service"
}

// canRead checks that c may read order id, checking a customer token
// against its stored hash. It returns the caller with CustomerOf set and
// the order, read in the same query as the hash so that callers need not
// read it again (orderSince brings it up to date with the events).
func (h *Handlers) canRead(ctx context.Context, c Caller, id, token string) (Caller, orders.Order, error) {
	if c.Trusted() {
		o, err := h.store.GetOrder(ctx, id)
		if err != nil {
			return c, o, err
		}
		return c, o, nil
	}
	if token == "" {
		return c, orders.Order{}, unauthorized("tracking token required")
	}
	o, hash, err := h.store.OrderWithTokenHash(ctx, id)
	if err != nil {
		return c, orders.Order{}, fmt.Errorf("check token of order %s: %w", id, err)
	}
	if !auth.CheckTrackingToken(token, hash) {
		return c, orders.Order{}, forbidden("this token is not for this order")
	}
	c.CustomerOf = id
	return c, o, nil
}
