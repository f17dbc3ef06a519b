package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// Append adds one event to an order in a transaction that holds the write
// lock: cmd decides the event against the current order (the domain's
// rule); its refusal is returned wrapped. Appends that queue meanwhile
// share the transaction (group.go).
func (s *SQLite) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	return s.appends.append(ctx, orderID, cmd)
}

// appendBatch runs one group of appends in one write transaction.
func (s *SQLite) appendBatch(ctx context.Context, reqs []*appendReq) (error, bool) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err, false
	}
	defer func() { _ = tx.Rollback() }() // after Commit: ErrTxDone, ignored
	locked := tx.StmtContext(ctx, s.stmts.lockedOrder)
	insert := tx.StmtContext(ctx, s.stmts.insertEvent)
	update := tx.StmtContext(ctx, s.stmts.updateOrder)
	for _, r := range reqs {
		cur, err := scanSQLiteOrder(locked.QueryRowContext(ctx, r.orderID))
		if errors.Is(err, sql.ErrNoRows) {
			r.err = orders.ErrNotFound
			continue
		}
		if err != nil {
			return err, false
		}
		if !r.decideNext(cur, time.Now()) {
			continue
		}
		e, o := r.ev, r.o
		if _, err := insert.ExecContext(ctx, e.OrderID, e.Seq, e.Type, string(e.Status), e.Note, e.By, e.From, e.Author, e.Text, sqliteTime(e.At)); err != nil {
			return fmt.Errorf("insert event %d: %w", e.Seq, err), false
		}
		if _, err := update.ExecContext(ctx, o.LastSeq, sqliteTime(o.UpdatedAt), string(o.Status), sqliteTimeOrNull(o.AwaitingSince), o.ID); err != nil {
			return err, false
		}
	}
	if err := tx.Commit(); err != nil {
		return err, true
	}
	return nil, false
}

func (s *SQLite) group() *appendGroup { return s.appends }
