package store

import (
	"context"

	"github.com/ordercast/ordercast/orders"
)

// Append adds one event to an order in a transaction that holds the write
// lock: cmd decides the event against the current order (the domain's
// rule); its refusal is returned wrapped. Appends that queue meanwhile
// share the transaction (group.go).
func (s *SQLite) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	return s.appends.append(ctx, orderID, cmd, nil)
}

// appendAt is Append deciding against hint first (Cache).
func (s *SQLite) appendAt(ctx context.Context, orderID string, cmd orders.Command, hint orders.Order) (orders.Event, orders.Order, error) {
	return s.appends.append(ctx, orderID, cmd, &hint)
}

func (s *SQLite) group() *appendGroup { return s.appends }
