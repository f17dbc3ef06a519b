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
	// SetAssignee stores who handles the order (nil: nobody) and returns
	// the order; an unknown id wraps orders.ErrNotFound.
	SetAssignee(ctx context.Context, orderID string, assignee *string) (orders.Order, error)
	// Append stores the event cmd decides against the order's current
	// state, numbered after its last, in one transaction.
	Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error)
	// Events returns the order's events with seq > since, oldest first.
	Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error)
	// ReplaceTrackingToken stores a new token hash for the order and
	// returns the token's new version (orders.Order.TokenVersion).
	ReplaceTrackingToken(ctx context.Context, id string, hash []byte) (int64, error)
	// Idempotency-Key records (idempotency.go).
	ClaimIdempotencyKey(ctx context.Context, c IdemClaim) (IdemResult, error)
	CompleteIdempotencyKey(ctx context.Context, k IdemKey, claimID string, status int, body []byte) error
	ReleaseIdempotencyKey(ctx context.Context, k IdemKey, claimID string) error
	PurgeIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error)
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

// ErrInUse is wrapped by OpenSQLite when another process has the file
// open: SQLite serves one process (several share PostgreSQL).
var ErrInUse = errors.New("the database file is in use by another process (SQLite serves one process; several processes share PostgreSQL: --database-url)")

// ErrBadCursor is wrapped by ListOrders when ListQuery.Before is not a cursor
// it handed out.
var ErrBadCursor = errors.New("malformed list cursor")

// Page sizes of ListOrders.
const (
	DefaultListLimit = 20
	MaxListLimit     = 1000
)

// ListQuery selects a page of orders, newest first; with Awaiting, only
// the orders awaiting a reply, longest waiting first.
type ListQuery struct {
	Status   orders.Status // "" means any status
	Awaiting bool
	Limit    int    // <= 0 means DefaultListLimit; capped at MaxListLimit
	Before   string // the cursor ListOrders returned for the previous page; "" for the first
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
	// As stored: the first token (the column's default), nobody assigned.
	o.TokenVersion, o.Assignee = 1, nil
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

// dialect is what listSQL needs of an engine: its n-th placeholder, and a
// time as its driver binds it.
type dialect struct {
	ph   func(n int) string
	time func(t time.Time) any
}

// listSQL builds the ListOrders query for the columns cols (the last being
// pos). It asks for one row more than a page to learn whether another page
// follows.
func listSQL(q ListQuery, cols string, d dialect) (string, []any, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return d.ph(len(args)) }
	if q.Status != "" {
		where = append(where, "status = "+arg(string(q.Status)))
	}
	order := " ORDER BY pos DESC"
	if q.Awaiting {
		where = append(where, "awaiting_since IS NOT NULL")
		order = " ORDER BY awaiting_since, pos"
		at, pos, err := decodeWaitCursor(q.Before)
		if err != nil {
			return "", nil, err
		}
		if pos > 0 {
			t := d.time(at)
			where = append(where, "(awaiting_since > "+arg(t)+" OR (awaiting_since = "+arg(t)+" AND pos > "+arg(pos)+"))")
		}
	} else {
		before, err := decodeCursor(q.Before)
		if err != nil {
			return "", nil, err
		}
		if before > 0 {
			where = append(where, "pos < "+arg(before))
		}
	}
	query := "SELECT " + cols + " FROM orders"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += order + " LIMIT " + arg(q.limit()+1)
	return query, args, nil
}

// rowsOf is what a driver's result set offers for a list (database/sql
// and pgx alike).
type rowsOf interface {
	Next() bool
	Err() error
}

// readPage scans a listSQL result with scan (which also reads each row's
// position) and cuts it to a page.
func readPage(rows rowsOf, scan func(pos *int64) (orders.Order, error), limit int, awaiting bool) ([]orders.Order, string, error) {
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
	if len(list) <= limit {
		return list, "", nil
	}
	// Cut the extra row listSQL asked for; the cursor is the page's last.
	last := list[limit-1]
	if last.AwaitingSince != nil && awaiting {
		return list[:limit], encodeWaitCursor(*last.AwaitingSince, positions[limit-1]), nil
	}
	return list[:limit], encodeCursor(positions[limit-1]), nil
}

const waitCursorPrefix = "w1:"

// encodeWaitCursor is a position in the waiting list: the wait's start and
// the order's position, which breaks ties.
func encodeWaitCursor(at time.Time, pos int64) string {
	raw := waitCursorPrefix + strconv.FormatInt(at.UnixMicro(), 10) + ":" + strconv.FormatInt(pos, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeWaitCursor returns pos 0 for the empty cursor, meaning "from the
// longest waiting"; a cursor of the other list is malformed here.
func decodeWaitCursor(s string) (time.Time, int64, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	bad := fmt.Errorf("%w: %q", ErrBadCursor, s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, bad
	}
	rest, ok := strings.CutPrefix(string(raw), waitCursorPrefix)
	micros, digits, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return time.Time{}, 0, bad
	}
	us, err1 := strconv.ParseInt(micros, 10, 64)
	pos, err2 := strconv.ParseInt(digits, 10, 64)
	if err1 != nil || err2 != nil || pos <= 0 || us < 0 {
		return time.Time{}, 0, bad
	}
	return time.UnixMicro(us).UTC(), pos, nil
}
