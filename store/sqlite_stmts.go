package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// sqliteStmts are prepared at open and closed by Close. The write ones
// are bound into each transaction with Tx.StmtContext, which reuses the
// preparation on the writer's single connection.
type sqliteStmts struct {
	createOrder *sql.Stmt // write
	insertEvent *sql.Stmt // write
	getOrder    *sql.Stmt // read
	orderHash   *sql.Stmt // read: order and token hash
	head        *sql.Stmt // read: what a cached order is checked against
	events      *sql.Stmt // read
	// lists holds ListOrders' statements by query text: listSQL has a few
	// shapes (filters, cursor kind), each prepared on its first use.
	listMu sync.Mutex
	lists  map[string]*sql.Stmt // read
}

func (st *sqliteStmts) all() []*sql.Stmt {
	all := []*sql.Stmt{st.createOrder, st.insertEvent,
		st.getOrder, st.orderHash, st.head, st.events}
	st.listMu.Lock()
	defer st.listMu.Unlock()
	for _, stmt := range st.lists {
		all = append(all, stmt)
	}
	return all
}

// list returns the prepared statement of a listSQL query.
func (st *sqliteStmts) list(ctx context.Context, read *sql.DB, query string) (*sql.Stmt, error) {
	st.listMu.Lock()
	defer st.listMu.Unlock()
	if stmt, ok := st.lists[query]; ok {
		return stmt, nil
	}
	stmt, err := read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	if st.lists == nil {
		st.lists = map[string]*sql.Stmt{}
	}
	st.lists[query] = stmt
	return stmt, nil
}

// prepare prepares every statement of st, the write ones on write and the
// read ones on read. On error the ones prepared so far are closed.
func (st *sqliteStmts) prepare(ctx context.Context, write, read *sql.DB) error {
	type prep struct {
		db    *sql.DB
		dst   **sql.Stmt
		query string
	}
	preps := []prep{
		// The write lock is held, so MAX(pos)+1 can't race.
		{write, &st.createOrder, `INSERT INTO orders
			(id, pos, customer, items, total, currency, status, last_seq, token_hash, created_at, updated_at)
			SELECT ?, COALESCE(MAX(pos), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM orders WHERE true
			ON CONFLICT (id) DO NOTHING`},
		{write, &st.insertEvent, sqliteInsertEvent},
		{read, &st.getOrder, `SELECT ` + sqliteOrderCols + ` FROM orders WHERE id = ?`},
		{read, &st.orderHash, `SELECT ` + sqliteOrderCols + `, token_hash, token_version FROM orders WHERE id = ?`},
		{read, &st.head, `SELECT last_seq, updated_at, token_hash, token_version, assignee FROM orders WHERE id = ?`},
		{read, &st.events, `SELECT ` + sqliteEventCols + ` FROM events WHERE order_id = ? AND seq > ? ORDER BY seq`},
	}
	for _, p := range preps {
		stmt, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			_ = st.close()
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.dst = stmt
	}
	return nil
}

func (st *sqliteStmts) close() error {
	var errs []error
	for _, stmt := range st.all() {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// sqliteTimeLayout has fixed width, so stored times also sort as text.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

const sqliteOrderCols = "id, customer, items, total, currency, status, last_seq, created_at, updated_at, assignee, awaiting_since"

const sqliteEventCols = "order_id, seq, type, status, note, by_name, from_role, author, text, at"

const sqliteInsertEvent = `INSERT INTO events (` + sqliteEventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// sqliteEventArgs are sqliteInsertEvent's arguments for e.
func sqliteEventArgs(e orders.Event) []any {
	return []any{e.OrderID, e.Seq, e.Type, string(e.Status), e.Note, e.By, e.From, e.Author, e.Text, sqliteTime(e.At)}
}

// scanSQLiteOrder scans sqliteOrderCols followed by extra.
func scanSQLiteOrder(r interface{ Scan(...any) error }, extra ...any) (orders.Order, error) {
	var o orders.Order
	var items []byte
	var created, updated string
	var awaiting sql.NullString
	dest := append([]any{&o.ID, &o.Customer, &items, &o.Total, &o.Currency, &o.Status, &o.LastSeq, &created, &updated,
		&o.Assignee, &awaiting}, extra...)
	if err := r.Scan(dest...); err != nil {
		return orders.Order{}, err
	}
	if awaiting.Valid {
		t, err := parseSQLiteTime(awaiting.String)
		if err != nil {
			return orders.Order{}, err
		}
		o.SetAwaitingSince(&t)
	}
	var err error
	if o.Items, err = decodeItems(items); err != nil {
		return orders.Order{}, err
	}
	if o.CreatedAt, err = parseSQLiteTime(created); err != nil {
		return orders.Order{}, err
	}
	if o.UpdatedAt, err = parseSQLiteTime(updated); err != nil {
		return orders.Order{}, err
	}
	return o, nil
}

func sqliteTime(t time.Time) string { return t.UTC().Format(sqliteTimeLayout) }

// sqliteTimeOrNull binds nil as NULL.
func sqliteTimeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return sqliteTime(*t)
}

func parseSQLiteTime(s string) (time.Time, error) {
	t, err := time.Parse(sqliteTimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}
