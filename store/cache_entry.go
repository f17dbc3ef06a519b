package store

import (
	"slices"

	"github.com/ordercast/ordercast/orders"
)

// cached is one order's entry: its row as of row.LastSeq (when hasRow),
// and its events from seq from on, without a gap.
type cached struct {
	id     string
	row    orders.Order
	hasRow bool
	events []orders.Event
	// trusted: row and tokenHash are the store's, served without reading
	// it; writes in flight and gen, bumped as each begins and ends, tell a
	// write or a read that ran alone (cache_writes.go).
	trusted   bool
	tokenHash []byte
	writes    int
	gen       uint64
}

func (c *cached) from() int64 {
	if len(c.events) == 0 {
		return 0
	}
	return c.events[0].Seq
}

func (c *cached) tail() int64 {
	if len(c.events) == 0 {
		return 0
	}
	return c.events[len(c.events)-1].Seq
}

// forward brings e's row forward by the cached events that follow it, up
// to seq to at most.
func (e *cached) forward(to int64) {
	for e.row.LastSeq < to {
		i := e.row.LastSeq + 1 - e.from()
		if len(e.events) == 0 || i < 0 || i >= int64(len(e.events)) {
			return
		}
		e.row.Apply(e.events[i])
	}
}

// rowAt returns e's row as the store's head h describes it: the cached row
// brought forward by cached events if need be. c.mu is held.
func (c *Cache) rowAt(e *cached, h orderHead) (orders.Order, bool) {
	if !e.hasRow || e.row.LastSeq > h.lastSeq {
		return orders.Order{}, false
	}
	if e.forward(h.lastSeq); e.row.LastSeq != h.lastSeq {
		return orders.Order{}, false
	}
	// Any change to an order's row moves updated_at; a row changed
	// without an event is read again.
	if !e.row.UpdatedAt.Equal(h.updatedAt) {
		return orders.Order{}, false
	}
	o := copyOrder(e.row)
	o.TokenVersion, o.Assignee = h.tokenVersion, h.assignee
	return o, true
}

// merge adds evs (ascending, without a gap) to e's events, keeping them
// without a gap: evs that join or overlap them extend them; evs beyond a
// gap replace them (the newest matter most). c.mu is held.
func (c *Cache) merge(e *cached, evs []orders.Event) {
	if len(evs) == 0 {
		return
	}
	a, b := evs[0].Seq, evs[len(evs)-1].Seq
	switch {
	case len(e.events) == 0 || a > e.tail()+1:
		e.events = slices.Clone(evs)
	case b < e.from()-1:
		return // older than what is kept, and apart from it
	default:
		var out []orders.Event
		for _, x := range e.events {
			if x.Seq < a {
				out = append(out, x)
			}
		}
		out = append(out, evs...)
		for _, x := range e.events {
			if x.Seq > b {
				out = append(out, x)
			}
		}
		e.events = out
	}
	if n := len(e.events); n > CacheEvents {
		e.events = slices.Clone(e.events[n-CacheEvents:])
	}
}

// copyOrder copies o's items, so that callers never share the cache's.
func copyOrder(o orders.Order) orders.Order {
	o.Items = slices.Clone(o.Items)
	if o.Items == nil {
		o.Items = []orders.Item{}
	}
	return o
}
