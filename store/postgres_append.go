package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ordercast/ordercast/orders"
)

// Append adds one event to an order in a transaction that holds the
// order's row lock: cmd decides the event against the current order (the
// domain's rule); its refusal is returned wrapped. Appends that queue
// meanwhile share the transaction (group.go).
func (p *Postgres) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	return p.appends.append(ctx, orderID, cmd, nil)
}

// appendAt is Append deciding against hint first (Cache).
func (p *Postgres) appendAt(ctx context.Context, orderID string, cmd orders.Command, hint orders.Order) (orders.Event, orders.Order, error) {
	return p.appends.append(ctx, orderID, cmd, &hint)
}

// appendBatch runs one group of appends in one transaction; the group
// comes sorted by order id, so row locks are always taken in one order.
func (p *Postgres) appendBatch(ctx context.Context, reqs []*appendReq) (error, bool) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err, false
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit: ErrTxClosed, ignored
	if err := appendAll(ctx, pgAppendTx{tx}, reqs); err != nil {
		return err, false
	}
	if err := tx.Commit(ctx); err != nil {
		return err, true
	}
	return nil, false
}

// pgAppendTx is appendTx on a PostgreSQL transaction (row locks: FOR UPDATE).
type pgAppendTx struct{ tx pgx.Tx }

func (t pgAppendTx) lockOrder(ctx context.Context, id string) (orders.Order, error) {
	o, err := scanPgOrder(t.tx.QueryRow(ctx, `SELECT `+pgOrderCols+` FROM orders WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return o, orders.ErrNotFound
	}
	return o, err
}

func (t pgAppendTx) insertEvent(ctx context.Context, e orders.Event) error {
	return insertPgEvent(ctx, t.tx, e)
}

// updateOrderAt: UPDATE locks the row as FOR UPDATE would; a row another
// transaction moved on is seen at its new last_seq and not updated.
func (t pgAppendTx) updateOrderAt(ctx context.Context, o orders.Order, was int64) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE orders SET last_seq = $2, updated_at = $3, status = $4, awaiting_since = $5
		WHERE id = $1 AND last_seq = $6 AND assignee IS NOT DISTINCT FROM $7`,
		o.ID, o.LastSeq, o.UpdatedAt, string(o.Status), o.AwaitingSince, was, o.Assignee)
	return err == nil && tag.RowsAffected() == 1, err
}

func (p *Postgres) group() *appendGroup { return p.appends }
