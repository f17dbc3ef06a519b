package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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

// appendBatch runs one group of appends in one write transaction.
func (s *SQLite) appendBatch(ctx context.Context, reqs []*appendReq) (error, bool) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err, false
	}
	defer func() { _ = tx.Rollback() }() // after Commit: ErrTxDone, ignored
	stmts := sqliteAppendTx{
		locked: tx.StmtContext(ctx, s.stmts.lockedOrder),
		insert: tx.StmtContext(ctx, s.stmts.insertEvent),
		update: tx.StmtContext(ctx, s.stmts.updateOrderAt),
	}
	if err := appendAll(ctx, stmts, reqs); err != nil {
		return err, false
	}
	if err := tx.Commit(); err != nil {
		return err, true
	}
	return nil, false
}

// sqliteAppendTx is appendTx on the write transaction's statements.
type sqliteAppendTx struct{ locked, insert, update *sql.Stmt }

func (t sqliteAppendTx) lockOrder(ctx context.Context, id string) (orders.Order, error) {
	o, err := scanSQLiteOrder(t.locked.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, orders.ErrNotFound
	}
	return o, err
}

func (t sqliteAppendTx) insertEvent(ctx context.Context, e orders.Event) error {
	if _, err := t.insert.ExecContext(ctx, e.OrderID, e.Seq, e.Type, string(e.Status), e.Note, e.By, e.From, e.Author, e.Text, sqliteTime(e.At)); err != nil {
		return fmt.Errorf("insert event %d: %w", e.Seq, err)
	}
	return nil
}

func (t sqliteAppendTx) updateOrderAt(ctx context.Context, o orders.Order, was int64) (bool, error) {
	res, err := t.update.ExecContext(ctx, o.LastSeq, sqliteTime(o.UpdatedAt), string(o.Status), sqliteTimeOrNull(o.AwaitingSince), o.ID, was, o.Assignee)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *SQLite) group() *appendGroup { return s.appends }
