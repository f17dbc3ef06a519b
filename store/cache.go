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
// It holds only what the store has committed (what its writes returned,
// what the store read, events another process published: Record).
//
// In front of a store that is this process's alone (SQLite, which locks
// its file), every write goes through the cache, so an order's row and
// token hash are served from memory while no write to it is in flight
// and none overlapped another since the row last matched the store
// (cache_writes.go). Anything else is trusted only as far as the store
// says, which keeps it correct with several processes on one database:
//   - a cached row is served only when the store's last seq and update
//     time for it match (one primary-key read of a few columns, which also
//     brings the token's hash, so a new token counts at once);
//   - Events always reads the store; EventsSince answers from memory only
//     when the cached events reach back to since and up to the seq the
//     caller read from the store. Anything short of that reads the store,
//     and what the store returns fills the cache.
type Cache struct {
	Store
	head func(ctx context.Context, id string) (orderHead, error)
	// appendAt: Append deciding on the cached row (group.go appendAtHint).
	appendAt func(ctx context.Context, id string, cmd orders.Command, hint orders.Order) (orders.Event, orders.Order, error)
	max      int  // orders kept
	sole     bool // no other process writes the store: entries can be trusted

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
	if w, ok := s.(interface{ soleWriter() bool }); ok {
		c.sole = w.soleWriter()
	}
	return c
}

// Stats returns how many reads the cache answered and how many it passed
// to the store.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// entry returns id's entry, made most recently used; create makes it when
// missing (evicting the least recently used beyond max, but none with a
// write in flight). c.mu is held.
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
	for el := c.lru.Back(); el != nil && c.lru.Len() > c.max; {
		prev := el.Prev()
		if old := el.Value.(*cached); old.writes == 0 {
			c.lru.Remove(el)
			delete(c.byID, old.id)
		}
		el = prev
	}
	return e
}

// GetOrder returns the order, from memory when trusted or when the store's
// head matches.
func (c *Cache) GetOrder(ctx context.Context, id string) (orders.Order, error) {
	o, _, err := c.order(ctx, id, false)
	return o, err
}

// OrderWithTokenHash returns the order and its token's hash (callers must
// not modify it), from memory only when the entry is trusted.
func (c *Cache) OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error) {
	return c.order(ctx, id, true)
}

func (c *Cache) order(ctx context.Context, id string, withHash bool) (orders.Order, []byte, error) {
	c.mu.Lock()
	e := c.entry(id, false)
	if e != nil && c.sole && e.trusted && e.writes == 0 {
		o, hash := copyOrder(e.row), e.tokenHash
		c.mu.Unlock()
		c.hits.Add(1)
		return o, hash, nil
	}
	hasRow := e != nil && e.hasRow
	var gen uint64 // writes to the order so far (cache_writes.go)
	if e != nil {
		gen = e.gen
	}
	c.mu.Unlock()
	if hasRow && c.head != nil {
		h, err := c.head(ctx, id)
		if err != nil {
			return orders.Order{}, nil, err
		}
		c.mu.Lock()
		o, ok := c.rowAt(e, h)
		if ok {
			c.settle(e, gen, o, h.tokenHash)
		}
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
	if withHash && e != nil {
		c.settle(e, gen, o, hash)
	}
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
