// Package store persists orders and their events, in SQLite (one node) or
// PostgreSQL (several nodes). Both backends have the same method set and pass
// the same conformance suite.
//
// Every change to an order is appended in one transaction that locks the
// order, so per-order seq numbers are gap-free even with several processes
// writing. Times are kept in UTC with microsecond precision (what PostgreSQL
// stores); the values the methods return are the stored ones.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// Store is the method set both engines implement: what the rest of
// ordercast may ask of the store. Its users declare the subsets they need.
type Store interface {
	// CreateOrder stores a new order, its tracking token's hash and its
	// first event; an id that exists wraps orders.ErrDuplicate.
	CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error)
	GetOrder(ctx context.Context, id string) (orders.Order, error)
	// OrderWithTokenHash reads both in one query, for a customer's access.
	OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error)
	ListOrders(ctx context.Context, q ListQuery) ([]orders.Order, string, error)
	// Append stores the event cmd decides against the order's current
	// state, numbered after its last, in one transaction.
	Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error)
	// Events returns the order's events with seq > since, oldest first.
	Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error)
	// EventsSince is Events for a caller that read the order's LastSeq,
	// known, from the store: a Cache may answer from memory when it holds
	// every event up to known. The engines read the store.
	EventsSince(ctx context.Context, orderID string, since, known int64) ([]orders.Event, error)
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ Store = (*SQLite)(nil)
	_ Store = (*Postgres)(nil)
	_ Store = (*Cache)(nil)
)

// ErrBadCursor is wrapped by ListOrders when ListQuery.Before is not a cursor
// it handed out.
var ErrBadCursor = errors.New("malformed list cursor")

// Page sizes of ListOrders.
const (
	DefaultListLimit = 20
	MaxListLimit     = 1000
)

// ListQuery selects a page of orders, newest first.
type ListQuery struct {
	Status orders.Status // "" means any status
	Limit  int           // <= 0 means DefaultListLimit; capped at MaxListLimit
	Before string        // the cursor ListOrders returned for the previous page; "" for the first
}

func (q ListQuery) limit() int {
	switch {
	case q.Limit <= 0:
		return DefaultListLimit
	case q.Limit > MaxListLimit:
		return MaxListLimit
	}
	return q.Limit
}

const cursorPrefix = "o1:"

// encodeCursor hides the list position so clients can't depend on its form.
func encodeCursor(pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(pos, 10)))
}

// decodeCursor returns 0 for the empty cursor, meaning "from the newest".
func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	digits, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	pos, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || pos <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return pos, nil
}

// storedTime is t as it will read back from either backend.
func storedTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func encodeItems(items []orders.Item) ([]byte, error) {
	if items == nil {
		items = []orders.Item{}
	}
	return json.Marshal(items)
}

func decodeItems(b []byte) ([]orders.Item, error) {
	items := []orders.Item{}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("decode items: %w", err)
	}
	if items == nil { // stored "null"
		items = []orders.Item{}
	}
	return items, nil
}

func checkEventType(typ string) error {
	if typ != orders.TypeStatus && typ != orders.TypeMessage {
		return fmt.Errorf("unknown event type %q", typ)
	}
	return nil
}

// newOrder fills in what the store owns on creation: seq 1 and the first
// event's identity, with times as they read back (orders.New decides the
// rest; zero times, from callers other than the domain, become now).
func newOrder(o orders.Order, first orders.Event, now time.Time) (orders.Order, orders.Event, error) {
	if o.ID == "" {
		return o, first, errors.New("empty order id")
	}
	if err := checkEventType(first.Type); err != nil {
		return o, first, err
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	if first.At.IsZero() {
		first.At = o.CreatedAt
	}
	if o.Items == nil {
		o.Items = []orders.Item{}
	}
	o.CreatedAt, o.UpdatedAt = storedTime(o.CreatedAt), storedTime(o.UpdatedAt)
	o.LastSeq = 1
	first.OrderID, first.Seq, first.At = o.ID, 1, storedTime(first.At)
	return o, first, nil
}

// nextEvent numbers ev after cur and returns the order as it is once ev is
// stored (the domain's Order.Apply).
func nextEvent(cur orders.Order, ev orders.Event, now time.Time) (orders.Event, orders.Order, error) {
	if err := checkEventType(ev.Type); err != nil {
		return ev, cur, err
	}
	if ev.At.IsZero() {
		ev.At = now
	}
	ev.OrderID, ev.Seq, ev.At = cur.ID, cur.LastSeq+1, storedTime(ev.At)
	cur.Apply(ev)
	return ev, cur, nil
}

// listSQL builds the ListOrders query for the columns cols (the last being
// pos); ph renders the n-th placeholder. It asks for one row more than a page
// to learn whether another page follows.
func listSQL(q ListQuery, before int64, cols string, ph func(n int) string) (string, []any) {
	var where []string
	var args []any
	if q.Status != "" {
		args = append(args, string(q.Status))
		where = append(where, "status = "+ph(len(args)))
	}
	if before > 0 {
		args = append(args, before)
		where = append(where, "pos < "+ph(len(args)))
	}
	query := "SELECT " + cols + " FROM orders"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.limit()+1)
	query += " ORDER BY pos DESC LIMIT " + ph(len(args))
	return query, args
}

// rowsOf is what a driver's result set offers for a list (database/sql
// and pgx alike).
type rowsOf interface {
	Next() bool
	Err() error
}

// readPage scans a listSQL result with scan (which also reads each row's
// position) and cuts it to a page.
func readPage(rows rowsOf, scan func(pos *int64) (orders.Order, error), limit int) ([]orders.Order, string, error) {
	list := []orders.Order{}
	var positions []int64
	for rows.Next() {
		var pos int64
		o, err := scan(&pos)
		if err != nil {
			return nil, "", fmt.Errorf("list orders: %w", err)
		}
		list, positions = append(list, o), append(positions, pos)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	list, next := page(list, positions, limit)
	return list, next, nil
}

// page cuts the extra row listSQL asked for and returns the cursor after the
// page, or "" when nothing follows.
func page(list []orders.Order, positions []int64, limit int) ([]orders.Order, string) {
	if len(list) <= limit {
		return list, ""
	}
	return list[:limit], encodeCursor(positions[limit-1])
}
