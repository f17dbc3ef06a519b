package store

import (
	"context"
	"slices"

	"github.com/ordercast/ordercast/orders"
)

// A write to an order goes through the cache between beginWrite and
// endWrite. With a store this process has alone (Cache.sole), an entry is
// trusted, served with no read of the store, only while every write since
// it last matched the store ran alone: nothing else began or ended between
// its start and its end. Writes that overlap leave their outcomes in the
// entry (events and the newest row, as with several processes) but not the
// trust, since which of them committed last is unknown; the next read
// checks the row against the store and trusts it again.
type pendingWrite struct {
	e   *cached
	gen uint64
}

func (c *Cache) beginWrite(id string) pendingWrite {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(id, true)
	e.writes++ // kept from eviction until endWrite
	e.gen++
	return pendingWrite{e: e, gen: e.gen}
}

// endWrite ends w. apply records the write's outcome in the entry (c.mu
// held); nil: the write failed, and what it left is unknown. whole: the
// outcome is the entire row and token hash (a creation), trusted on its own.
func (c *Cache) endWrite(w pendingWrite, apply func(e *cached), whole bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := w.e
	e.writes--
	alone := e.gen == w.gen
	e.gen++
	if apply == nil {
		e.trusted = false
		return
	}
	apply(e)
	e.trusted = alone && (whole || e.trusted)
}

// settle trusts e's row o and token hash when nothing was written to the
// order since gen was read, before the store was; only a sole writer's
// cache trusts (and so copies) anything. c.mu is held.
func (c *Cache) settle(e *cached, gen uint64, o orders.Order, hash []byte) {
	if !c.sole {
		return
	}
	if el, ok := c.byID[e.id]; !ok || el.Value != e || e.writes > 0 || e.gen != gen {
		return
	}
	e.row, e.hasRow, e.tokenHash, e.trusted = copyOrder(o), true, slices.Clone(hash), true
}

// CreateOrder stores the order and caches it with its first event.
func (c *Cache) CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error) {
	w := c.beginWrite(o.ID)
	o, first, err := c.Store.CreateOrder(ctx, o, tokenHash, first)
	if err != nil {
		c.endWrite(w, nil, false)
		return o, first, err
	}
	c.endWrite(w, func(e *cached) {
		e.row, e.hasRow, e.events = copyOrder(o), true, []orders.Event{first}
		e.tokenHash = slices.Clone(tokenHash)
	}, true)
	return o, first, nil
}

// Append stores the event and caches it.
func (c *Cache) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	w := c.beginWrite(orderID)
	var ev orders.Event
	var o orders.Order
	var err error
	if hint, ok := c.hint(orderID); ok && c.appendAt != nil {
		ev, o, err = c.appendAt(ctx, orderID, cmd, hint)
	} else {
		ev, o, err = c.Store.Append(ctx, orderID, cmd)
	}
	if err != nil {
		c.endWrite(w, nil, false)
		return ev, o, err
	}
	c.endWrite(w, func(e *cached) {
		c.merge(e, []orders.Event{ev})
		if !e.hasRow || e.row.LastSeq < o.LastSeq {
			e.row, e.hasRow = copyOrder(o), true
		}
	}, false)
	return ev, o, nil
}

// SetAssignee stores the assignee and caches the row.
func (c *Cache) SetAssignee(ctx context.Context, orderID string, assignee *string) (orders.Order, error) {
	w := c.beginWrite(orderID)
	o, err := c.Store.SetAssignee(ctx, orderID, assignee)
	if err != nil {
		c.endWrite(w, nil, false)
		return o, err
	}
	c.endWrite(w, func(e *cached) {
		if !e.hasRow || e.row.LastSeq <= o.LastSeq {
			e.row, e.hasRow = copyOrder(o), true
		}
	}, false)
	return o, nil
}

// ReplaceTrackingToken stores the new token's hash and caches it.
func (c *Cache) ReplaceTrackingToken(ctx context.Context, id string, hash []byte) (int64, error) {
	w := c.beginWrite(id)
	v, err := c.Store.ReplaceTrackingToken(ctx, id, hash)
	if err != nil {
		c.endWrite(w, nil, false)
		return v, err
	}
	c.endWrite(w, func(e *cached) {
		e.tokenHash = slices.Clone(hash)
		e.row.TokenVersion = v
	}, false)
	return v, nil
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
// an order in the cache. Another process writes: the row is checked
// against the store again.
func (c *Cache) Record(ev orders.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(ev.OrderID, false); e != nil {
		c.merge(e, []orders.Event{ev})
		e.trusted = false
	}
}
