package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordercast/ordercast/orders"
)

// Append adds one event to an order in a transaction that holds the
// order's row lock: cmd decides the event against the current order (the
// domain's rule); its refusal is returned wrapped. Appends that queue
// meanwhile share the transaction (group.go).
func (p *Postgres) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	return p.appends.append(ctx, orderID, cmd)
}

// appendBatch runs one group of appends in one transaction; the group
// comes sorted by order id, so row locks are always taken in one order.
func (p *Postgres) appendBatch(ctx context.Context, reqs []*appendReq) (error, bool) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err, false
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: ErrTxClosed, ignored
	for _, r := range reqs {
		cur, err := scanPgOrder(tx.QueryRow(ctx, `SELECT `+pgOrderCols+` FROM orders WHERE id = $1 FOR UPDATE`, r.orderID))
		if errors.Is(err, pgx.ErrNoRows) {
			r.err = orders.ErrNotFound
			continue
		}
		if err != nil {
			return err, false
		}
		if !r.decideNext(cur, time.Now()) {
			continue
		}
		if err := insertPgEvent(ctx, tx, r.ev); err != nil {
			return err, false
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET last_seq = $2, updated_at = $3, status = $4, awaiting_since = $5 WHERE id = $1`,
			r.o.ID, r.o.LastSeq, r.o.UpdatedAt, string(r.o.Status), r.o.AwaitingSince); err != nil {
			return err, false
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err, true
	}
	return nil, false
}

func (p *Postgres) group() *appendGroup { return p.appends }
