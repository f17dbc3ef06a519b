package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/ordercast/ordercast/orders"
)

// Append transactions run on the write connection's driver connection,
// with every statement they use prepared once on it, BEGIN IMMEDIATE and
// COMMIT included. Through database/sql, modernc prepares BEGIN and COMMIT
// again for every transaction, and every statement pays database/sql's
// argument conversion and locking (bench/RESULTS.md has the share).

// rawTxQueries are the statements of an append transaction.
func rawTxQueries() [rawCount]string {
	return [rawCount]string{
		rawBegin:    `BEGIN IMMEDIATE`,
		rawCommit:   `COMMIT`,
		rawRollback: `ROLLBACK`,
		rawLocked:   `SELECT ` + sqliteOrderCols + ` FROM orders WHERE id = ?`,
		rawInsert:   sqliteInsertEvent,
		rawUpdate:   `UPDATE orders SET last_seq = ?, updated_at = ?, status = ?, awaiting_since = ? WHERE id = ? AND last_seq = ? AND assignee IS ?`,
	}
}

const (
	rawBegin = iota
	rawCommit
	rawRollback
	rawLocked
	rawInsert
	rawUpdate
	rawCount
)

// rawStmt is what modernc's prepared statements implement.
type rawStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// rawTx holds the statements prepared on one driver connection. It is
// used only inside sql.Conn.Raw on the single write connection, so by one
// goroutine at a time.
type rawTx struct {
	conn  any // the driver connection stmts belong to
	stmts [rawCount]rawStmt
}

// on returns the statements of dc, preparing them if dc is not the
// connection they were prepared on (database/sql replaced it).
func (r *rawTx) on(ctx context.Context, dc any) error {
	if r.conn == dc {
		return nil
	}
	r.close()
	p, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("sqlite driver connection %T cannot prepare", dc)
	}
	for i, q := range rawTxQueries() {
		st, err := p.PrepareContext(ctx, q)
		if err != nil {
			r.close()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		rs, ok := st.(rawStmt)
		if !ok {
			_ = st.Close()
			r.close()
			return fmt.Errorf("sqlite statement %T lacks context methods", st)
		}
		r.stmts[i] = rs
	}
	r.conn = dc
	return nil
}

func (r *rawTx) close() {
	for i, st := range r.stmts {
		if st != nil {
			_ = st.Close()
			r.stmts[i] = nil
		}
	}
	r.conn = nil
}

func (r *rawTx) exec(ctx context.Context, which int, args ...any) (driver.Result, error) {
	return r.stmts[which].ExecContext(ctx, namedValues(args))
}

func namedValues(args []any) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// appendBatch runs one group of appends in one write transaction.
func (s *SQLite) appendBatch(ctx context.Context, reqs []*appendReq) (err error, atCommit bool) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err, false
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		if err := s.raw.on(ctx, dc); err != nil {
			return err
		}
		if _, err := s.raw.exec(ctx, rawBegin); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		committed := false
		defer func() {
			if !committed { // after a failed COMMIT too: it may leave the transaction open
				_, _ = s.raw.exec(context.Background(), rawRollback)
			}
		}()
		if err := appendAll(ctx, rawAppendTx{&s.raw}, reqs); err != nil {
			return err
		}
		if _, err := s.raw.exec(ctx, rawCommit); err != nil {
			atCommit = true
			return fmt.Errorf("commit: %w", err)
		}
		committed = true
		s.ckpt.committed(len(reqs))
		return nil
	})
	return err, atCommit
}

// closeRaw finalizes the append statements, before the pool closes.
func (s *SQLite) closeRaw() error {
	conn, err := s.write.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(any) error { s.raw.close(); return nil })
}

// rawAppendTx is appendTx on the prepared driver statements.
type rawAppendTx struct{ r *rawTx }

func (t rawAppendTx) lockOrder(ctx context.Context, id string) (orders.Order, error) {
	rows, err := t.r.stmts[rawLocked].QueryContext(ctx, namedValues([]any{id}))
	if err != nil {
		return orders.Order{}, err
	}
	defer rows.Close()
	row := make(driverRow, len(rows.Columns()))
	if err := rows.Next(row); errors.Is(err, io.EOF) {
		return orders.Order{}, orders.ErrNotFound
	} else if err != nil {
		return orders.Order{}, err
	}
	return scanSQLiteOrder(row)
}

func (t rawAppendTx) insertEvent(ctx context.Context, e orders.Event) error {
	if _, err := t.r.exec(ctx, rawInsert, sqliteEventArgs(e)...); err != nil {
		return fmt.Errorf("insert event %d: %w", e.Seq, err)
	}
	return nil
}

func (t rawAppendTx) updateOrderAt(ctx context.Context, o orders.Order, was int64) (bool, error) {
	var assignee any
	if o.Assignee != nil {
		assignee = *o.Assignee
	}
	res, err := t.r.exec(ctx, rawUpdate, o.LastSeq, sqliteTime(o.UpdatedAt), string(o.Status),
		sqliteTimeOrNull(o.AwaitingSince), o.ID, was, assignee)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// driverRow is one row of driver values, scanned into the few types the
// order's columns have.
type driverRow []driver.Value

func (r driverRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return fmt.Errorf("scan: %d columns into %d values", len(r), len(dest))
	}
	for i, d := range dest {
		if err := assignDriverValue(d, r[i]); err != nil {
			return fmt.Errorf("scan column %d: %w", i, err)
		}
	}
	return nil
}

func assignDriverValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *string:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%T into string", v)
		}
		*d = s
	case *orders.Status:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%T into status", v)
		}
		*d = orders.Status(s)
	case *int64:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%T into int64", v)
		}
		*d = n
	case *[]byte:
		switch b := v.(type) {
		case string:
			*d = []byte(b)
		case []byte:
			*d = append([]byte(nil), b...)
		default:
			return fmt.Errorf("%T into bytes", v)
		}
	case **string:
		if v == nil {
			*d = nil
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%T into *string", v)
		}
		*d = &s
	case *sql.NullString:
		return d.Scan(v)
	default:
		return fmt.Errorf("unsupported destination %T", dest)
	}
	return nil
}
