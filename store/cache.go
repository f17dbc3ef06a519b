package store

import (
	"container/list"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// Cache is a Store that keeps the rows and recent events of the orders in
// use in memory, bounded (least recently used orders go first), so that a
// subscribe reads one short row instead of the row and the events.
//
// It is correct with several processes on one database because it holds
// only what the store has committed (what Append and CreateOrder returned,
// what the store read, events another process published: Record) and is
// trusted only as far as the store says:
//   - a cached row is served only when the store's last seq and update
//     time for it match (one primary-key read of three columns, which also
//     brings the token's hash, never cached: a new token counts at once);
//   - Events always reads the store; EventsSince answers from memory only
//     when the cached events reach back to since and up to the seq the
//     caller read from the store. Anything short of that reads the store,
//     and what the store returns fills the cache.
type Cache struct {
	Store
	head func(ctx context.Context, id string) (orderHead, error)
	// appendAt: Append deciding on the cached row (group.go appendAtHint).
	appendAt func(ctx context.Context, id string, cmd orders.Command, hint orders.Order) (orders.Event, orders.Order, error)
	max      int // orders kept

	mu     sync.Mutex
	lru    *list.List // of *cached, most recently used first
	byID   map[string]*list.Element
	hits   atomic.Int64
	misses atomic.Int64
}

// orderHead is what a cached row is checked against (see Cache).
type orderHead struct {
	lastSeq   int64
	updatedAt time.Time
	tokenHash []byte
	// Changed without moving updated_at, so always taken from the head:
	// the token's version (a reissue) and the assignee.
	tokenVersion int64
	assignee     *string
}

// CacheEvents bounds the events kept per order: more than an order's
// usual timeline (six status changes and a few messages); older ones are
// read from the store.
const CacheEvents = 32

// NewCache returns s with a cache of at most maxOrders orders in front.
func NewCache(s Store, maxOrders int) *Cache {
	c := &Cache{Store: s, max: max(maxOrders, 1), lru: list.New(), byID: map[string]*list.Element{}}
	if h, ok := s.(interface {
		head(ctx context.Context, id string) (orderHead, error)
	}); ok {
		c.head = h.head
	}
	if a, ok := s.(interface {
		appendAt(ctx context.Context, id string, cmd orders.Command, hint orders.Order) (orders.Event, orders.Order, error)
	}); ok {
		c.appendAt = a.appendAt
	}
	return c
}

// Stats returns how many reads the cache answered and how many it passed
// to the store.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// entry returns id's entry, made most recently used; create makes it when
// missing (evicting the least recently used beyond max). c.mu is held.
func (c *Cache) entry(id string, create bool) *cached {
	if el, ok := c.byID[id]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cached)
	}
	if !create {
		return nil
	}
	e := &cached{id: id}
	c.byID[id] = c.lru.PushFront(e)
	for c.lru.Len() > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.byID, last.Value.(*cached).id)
	}
	return e
}

// CreateOrder stores the order and caches it with its first event.
func (c *Cache) CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error) {
	o, first, err := c.Store.CreateOrder(ctx, o, tokenHash, first)
	if err == nil {
		c.mu.Lock()
		e := c.entry(o.ID, true)
		e.row, e.hasRow, e.events = o, true, []orders.Event{first}
		c.mu.Unlock()
	}
	return o, first, err
}

// Append stores the event and caches it.
func (c *Cache) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	var ev orders.Event
	var o orders.Order
	var err error
	if hint, ok := c.hint(orderID); ok && c.appendAt != nil {
		ev, o, err = c.appendAt(ctx, orderID, cmd, hint)
	} else {
		ev, o, err = c.Store.Append(ctx, orderID, cmd)
	}
	if err == nil {
		c.mu.Lock()
		e := c.entry(orderID, true)
		c.merge(e, []orders.Event{ev})
		if !e.hasRow || e.row.LastSeq < o.LastSeq {
			e.row, e.hasRow = o, true
		}
		c.mu.Unlock()
	}
	return ev, o, err
}

// hint is the cached row of orderID, for an append to decide on without
// reading the row; the store writes only if the row has not moved on.
func (c *Cache) hint(orderID string) (orders.Order, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(orderID, false); e != nil && e.hasRow {
		e.forward(e.tail()) // by the events other processes published
		return copyOrder(e.row), true
	}
	return orders.Order{}, false
}

// Record caches an event that another process stored and published, for
// an order in the cache.
func (c *Cache) Record(ev orders.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(ev.OrderID, false); e != nil {
		c.merge(e, []orders.Event{ev})
	}
}

// GetOrder returns the order, from memory when the store's head matches.
func (c *Cache) GetOrder(ctx context.Context, id string) (orders.Order, error) {
	o, _, err := c.order(ctx, id, false)
	return o, err
}

// OrderWithTokenHash returns the order and its token's hash, read from the
// store every time.
func (c *Cache) OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error) {
	return c.order(ctx, id, true)
}

func (c *Cache) order(ctx context.Context, id string, withHash bool) (orders.Order, []byte, error) {
	c.mu.Lock()
	e := c.entry(id, false)
	hasRow := e != nil && e.hasRow
	c.mu.Unlock()
	if hasRow && c.head != nil {
		h, err := c.head(ctx, id)
		if err != nil {
			return orders.Order{}, nil, err
		}
		c.mu.Lock()
		o, ok := c.rowAt(e, h)
		c.mu.Unlock()
		if ok {
			c.hits.Add(1)
			return o, h.tokenHash, nil
		}
	}
	c.misses.Add(1)
	var o orders.Order
	var hash []byte
	var err error
	if withHash {
		o, hash, err = c.Store.OrderWithTokenHash(ctx, id)
	} else {
		o, err = c.Store.GetOrder(ctx, id)
	}
	if err != nil {
		return o, hash, err
	}
	c.mu.Lock()
	e = c.entry(id, true)
	if !e.hasRow || e.row.LastSeq <= o.LastSeq {
		e.row, e.hasRow = o, true
	}
	c.mu.Unlock()
	return copyOrder(o), hash, nil
}

// Events reads the store and caches what it returns.
func (c *Cache) Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error) {
	evs, err := c.Store.Events(ctx, orderID, since)
	if err == nil && len(evs) > 0 {
		c.mu.Lock()
		c.merge(c.entry(orderID, true), evs)
		c.mu.Unlock()
	}
	return evs, err
}

// EventsSince returns the events with seq > since, from memory when the
// cache holds every one from since+1 up to known, a seq the caller read
// from the store (so none committed before that read is missing); else
// as Events.
func (c *Cache) EventsSince(ctx context.Context, orderID string, since, known int64) ([]orders.Event, error) {
	c.mu.Lock()
	if e := c.entry(orderID, false); e != nil && len(e.events) > 0 && e.from() <= since+1 && e.tail() >= known {
		i := max(since+1-e.from(), 0)
		evs := slices.Clone(e.events[min(i, int64(len(e.events))):])
		c.mu.Unlock()
		c.hits.Add(1)
		if evs == nil {
			evs = []orders.Event{}
		}
		return evs, nil
	}
	c.mu.Unlock()
	c.misses.Add(1)
	return c.Events(ctx, orderID, since)
}

func (c *Cache) group() *appendGroup {
	if g, ok := c.Store.(grouped); ok {
		return g.group()
	}
	return nil
}

// grouped is a store that group-commits its appends (both engines).
type grouped interface{ group() *appendGroup }
