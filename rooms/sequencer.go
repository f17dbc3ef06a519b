package rooms

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// EventReader reads an order's stored events with seq > since (the store).
type EventReader interface {
	Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error)
}

// sequencer hands each order's events to deliver in ascending seq with no
// gap, on this process, whatever order they arrive in: requests that
// commit concurrently publish in any order, and events from other
// processes come over Redis on their own schedule. An event that runs
// ahead waits for the missing ones at most wait; then the gap is read from
// the store (an event stored by a process that died before it published
// it reaches subscribers this way).
type sequencer struct {
	deliver func(orders.Event)
	store   EventReader // nil: a gap is skipped after wait
	wait    time.Duration
	idle    time.Duration // an order's state is forgotten after this
	log     *slog.Logger

	mu        sync.Mutex
	orders    map[string]*orderSeq
	lastSweep time.Time
}

// orderSeq is one order's delivery state; mu also serializes its
// deliveries, so that they reach the sockets in order.
type orderSeq struct {
	mu      sync.Mutex
	last    int64 // highest seq delivered here
	pending map[int64]orders.Event
	timer   *time.Timer
	seen    time.Time
}

func newSequencer(deliver func(orders.Event), store EventReader, wait time.Duration, log *slog.Logger) *sequencer {
	return &sequencer{deliver: deliver, store: store, wait: wait, idle: 30 * time.Minute, log: log,
		orders: map[string]*orderSeq{}, lastSweep: time.Now()}
}

// state returns id's state, created with last = base when new.
func (s *sequencer) state(id string, base int64) (*orderSeq, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) > s.idle/4 {
		s.sweep(now)
	}
	st, ok := s.orders[id]
	if !ok {
		st = &orderSeq{last: base, pending: map[int64]orders.Event{}}
		s.orders[id] = st
	}
	return st, ok
}

// sweep forgets orders idle for s.idle; s.mu is held.
func (s *sequencer) sweep(now time.Time) {
	s.lastSweep = now
	for id, st := range s.orders {
		if st.mu.TryLock() {
			if len(st.pending) == 0 && now.Sub(st.seen) > s.idle {
				delete(s.orders, id)
			}
			st.mu.Unlock()
		}
	}
}

// watch notes that a subscriber has every event of order id up to seq
// (read from the store after it joined the room). An order new to this
// process starts there, so that its next event is awaited in order.
func (s *sequencer) watch(id string, seq int64) {
	st, _ := s.state(id, seq)
	st.mu.Lock()
	st.seen = time.Now()
	st.mu.Unlock()
}

// offer takes a stored event and delivers what is in order.
func (s *sequencer) offer(e orders.Event) {
	// An order new to this process starts at this event: nobody here
	// waits for an earlier one (a subscriber would have called watch).
	st, _ := s.state(e.OrderID, e.Seq-1)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seen = time.Now()
	if e.Seq <= st.last {
		return // delivered already
	}
	st.pending[e.Seq] = e
	s.drain(st)
	if len(st.pending) > 0 && st.timer == nil {
		id := e.OrderID
		st.timer = time.AfterFunc(s.wait, func() { s.fill(id, st) })
	}
}

// drain delivers the pending events that follow st.last; st.mu is held.
func (s *sequencer) drain(st *orderSeq) {
	for {
		e, ok := st.pending[st.last+1]
		if !ok {
			break
		}
		delete(st.pending, e.Seq)
		st.last = e.Seq
		s.deliver(e)
	}
	if len(st.pending) == 0 && st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
}

// fill runs when events waited too long for a missing one: the gap is
// read from the store. If the store cannot say, the gap is skipped rather
// than holding the order back (clients resync by seq).
func (s *sequencer) fill(id string, st *orderSeq) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timer = nil
	if len(st.pending) == 0 {
		return
	}
	if s.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		events, err := s.store.Events(ctx, id, st.last)
		cancel()
		if err != nil {
			s.log.Warn("filling a gap from the store", "order", id, "after", st.last, "err", err)
		}
		for _, e := range events {
			if e.Seq > st.last {
				if _, ok := st.pending[e.Seq]; !ok {
					st.pending[e.Seq] = e
				}
			}
		}
		s.drain(st)
	}
	if len(st.pending) == 0 {
		return
	}
	first := int64(-1)
	for seq := range st.pending {
		if first < 0 || seq < first {
			first = seq
		}
	}
	s.log.Warn("skipping events the store does not have", "order", id, "from", st.last+1, "to", first-1)
	st.last = first - 1
	s.drain(st)
}
