// Package presence counts who is here: per order, the sockets subscribed to
// it by role, and the staff sockets connected, over every process.
//
// Each process counts its own sockets (Join, Leave, StaffOnline: no I/O),
// and learns the other processes' counts from their snapshots (Heard),
// which cluster sends on its node channel: a partial one for the orders
// whose count changed, at most every FlushInterval, and a full one every
// Heartbeat. A process not heard from for TTL is dropped from the counts
// (Expire), so a process killed without a word drops out within TTL plus
// the interval at which Expire runs. A Book tells its Notifier whenever a
// total changes, whatever changed it.
package presence

import (
	"strconv"
	"sync"
	"time"
)

// Timings of the cluster's presence sync (cluster/presence.go).
const (
	FlushInterval = 100 * time.Millisecond
	Heartbeat     = 2 * time.Second
	TTL           = 3 * Heartbeat
	// ExpireInterval is how often Expire runs: a dead process drops out
	// within TTL + ExpireInterval (7 s).
	ExpireInterval = time.Second
)

// Counts are the sockets subscribed to one order, by role.
type Counts struct {
	Customers int `json:"customers"`
	Staff     int `json:"staff"`
}

func (c Counts) add(d Counts) Counts { return Counts{c.Customers + d.Customers, c.Staff + d.Staff} }

// AppendJSON appends the counts as encoding/json writes them: every
// subscribe's ack carries them, and reflection cost more than the rest of
// their encoding.
func (c Counts) AppendJSON(b []byte) []byte {
	b = append(b, `{"customers":`...)
	b = strconv.AppendInt(b, int64(c.Customers), 10)
	b = append(b, `,"staff":`...)
	b = strconv.AppendInt(b, int64(c.Staff), 10)
	return append(b, '}')
}

// Snapshot is one process's counts as it shares them. Full: every order it
// counts is listed, and those not listed count zero; otherwise only the
// listed orders changed.
type Snapshot struct {
	Full   bool              `json:"full,omitempty"`
	Staff  int               `json:"staff"`
	Orders map[string]Counts `json:"orders,omitempty"`
}

// Notifier is told of every change of a total (rooms.Hub emits them to
// this process's sockets). It is called by one goroutine at a time, outside
// the book's lock, with each order's newest total: changes that pile up
// while it emits are sent as one, never out of order.
type Notifier interface {
	Presence(orderID string, c Counts)
	SupportOnline(count int)
}

// Book holds this process's counts and the other processes'.
type Book struct {
	notify Notifier
	now    func() time.Time

	mu     sync.Mutex
	local  map[string]Counts
	staff  int
	peers  map[string]*peer
	shown  map[string]Counts // the totals last notified, zero ones removed
	online int               // the staff total last notified
	dirty  map[string]bool   // orders changed since the last Flush
	staffD bool

	// Totals to notify, newest per order (notify.go).
	pending       map[string]Counts
	spare         map[string]Counts // the next pending: one notifier at a time
	onlinePending bool
	notifying     bool
}

type peer struct {
	staff  int
	orders map[string]Counts
	seen   time.Time
}

// New returns an empty book; now may be nil (time.Now).
func New(notify Notifier, now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	return &Book{notify: notify, now: now, local: map[string]Counts{}, peers: map[string]*peer{},
		shown: map[string]Counts{}, dirty: map[string]bool{}, pending: map[string]Counts{}, spare: map[string]Counts{}}
}

// Join counts one more socket of this process subscribed to orderID and
// returns the order's total with it.
func (b *Book) Join(orderID string, staff bool) Counts { return b.change(orderID, staff, 1) }

// Leave counts one socket fewer.
func (b *Book) Leave(orderID string, staff bool) { b.change(orderID, staff, -1) }

func (b *Book) change(orderID string, staff bool, d int) Counts {
	defer b.notifyPending()
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.local[orderID]
	if staff {
		c.Staff += d
	} else {
		c.Customers += d
	}
	if c == (Counts{}) {
		delete(b.local, orderID)
	} else {
		b.local[orderID] = c
	}
	b.dirty[orderID] = true
	return b.show(orderID)
}

// StaffOnline counts d more (or fewer) staff sockets connected here and
// returns the total over every process.
func (b *Book) StaffOnline(d int) int {
	defer b.notifyPending()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.staff += d
	b.staffD = true
	return b.showOnline()
}

// Total is the order's count over every process.
func (b *Book) Total(orderID string) Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total(orderID)
}

// Online is the number of staff sockets connected to every process.
func (b *Book) Online() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.onlineTotal()
}

func (b *Book) total(orderID string) Counts {
	c := b.local[orderID]
	for _, p := range b.peers {
		c = c.add(p.orders[orderID])
	}
	return c
}

func (b *Book) onlineTotal() int {
	n := b.staff
	for _, p := range b.peers {
		n += p.staff
	}
	return n
}

// show queues the order's total for notifyPending if it changed, and
// returns it; b.mu held.
func (b *Book) show(orderID string) Counts {
	c := b.total(orderID)
	if c == b.shown[orderID] {
		return c
	}
	if c == (Counts{}) {
		delete(b.shown, orderID)
	} else {
		b.shown[orderID] = c
	}
	b.pending[orderID] = c
	return c
}

func (b *Book) showOnline() int {
	n := b.onlineTotal()
	if n != b.online {
		b.online = n
		b.onlinePending = true
	}
	return n
}

// notifyPending tells the notifier the queued totals, outside b.mu. One
// caller at a time does it, and takes what others queue meanwhile.
func (b *Book) notifyPending() {
	b.mu.Lock()
	if b.notifying {
		b.mu.Unlock()
		return // the one notifying takes ours too
	}
	b.notifying = true
	for len(b.pending) > 0 || b.onlinePending {
		pending, online, onlineDue := b.pending, b.online, b.onlinePending
		b.pending, b.spare, b.onlinePending = b.spare, nil, false
		b.mu.Unlock()
		for id, c := range pending {
			b.notify.Presence(id, c)
		}
		if onlineDue {
			b.notify.SupportOnline(online)
		}
		clear(pending)
		b.mu.Lock()
		b.spare = pending
	}
	b.notifying = false
	b.mu.Unlock()
}
