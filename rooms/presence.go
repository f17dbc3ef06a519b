package rooms

import (
	"sync"
	"time"

	"github.com/ordercast/ordercast/presence"
)

// PresenceWindow bounds how long a change of an order's presence counts
// waits before order:presence tells it. Every change is told, but those of
// one window go out once, with the newest counts: a subscribe to an order
// followed by a thousand sockets would otherwise emit to all of them, and a
// burst of subscribes would cost the square of its size (bench/RESULTS.md).
const PresenceWindow = 100 * time.Millisecond

// presenceShare bounds the time spent telling presence: when telling one
// window's changes took d, the next window lasts at least presenceShare×d,
// so order:presence takes about a tenth of the server's time at most. It
// matters for rooms of thousands of sockets (the benchmark's 10k
// subscribers of the same orders, where each window's emits reached 100k
// sockets and took 15% of the CPU of a burst of subscribes); an order's
// room of a customer and a few staff is told within PresenceWindow.
const presenceShare = 9

// presenceFlushBudget bounds one window's telling: once it has taken this
// long, the orders not yet told wait for the next window with their
// newest counts. A backlog (the 10k orders of a reconnect storm) would
// otherwise hold a core for a third of a second in one go, and on one
// core every request meanwhile waits for the scheduler's 10 ms
// preemption: the rooms scenario's p99 at 100/s (bench/RESULTS.md). A
// request that arrives during a window's telling waits for its end, so
// the budget is that wait at most: 5 ms left the p99 at 100/s at 6 ms.
const presenceFlushBudget = time.Millisecond

// presenceBatch holds the newest counts of the orders changed in the
// current window and emits them when it ends, one order at a time.
type presenceBatch struct {
	window time.Duration
	emit   func(orderID string, c presence.Counts)
	now    func() time.Time
	after  func(time.Duration, func())

	mu      sync.Mutex
	pending map[string]presence.Counts // changed since the last flush began
	armed   bool
	cost    time.Duration // of the last flush

	// flushing keeps flushes one at a time, so that an order's counts go
	// out in the order they changed even when emitting outlasts a window.
	flushing sync.Mutex
	// backlog: the orders a flush has yet to tell, with their newest
	// counts; only flush touches it. A cut flush leaves the rest here
	// rather than copying it back: with a 10k-order backlog told 1 ms at
	// a time, the copies cost more than the telling.
	backlog map[string]presence.Counts
}

func newPresenceBatch(window time.Duration, emit func(string, presence.Counts)) *presenceBatch {
	return &presenceBatch{window: window, emit: emit, pending: map[string]presence.Counts{}, backlog: map[string]presence.Counts{},
		now: time.Now, after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

func (b *presenceBatch) add(orderID string, c presence.Counts) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending[orderID] = c
	if !b.armed {
		b.armed = true
		b.after(max(b.window, presenceShare*b.cost), b.flush)
	}
}

func (b *presenceBatch) flush() {
	b.flushing.Lock()
	defer b.flushing.Unlock()
	b.mu.Lock()
	if len(b.backlog) == 0 {
		b.backlog, b.pending = b.pending, b.backlog
	} else {
		for id, c := range b.pending { // the newest counts win
			b.backlog[id] = c
		}
		clear(b.pending)
	}
	b.armed = false
	b.mu.Unlock()
	start := b.now()
	var cost time.Duration
	cut := false
	for id, c := range b.backlog {
		b.emit(id, c)
		delete(b.backlog, id)
		if cost = b.now().Sub(start); cost >= presenceFlushBudget {
			cut = true
			break
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cost = cost
	if (len(b.backlog) > 0 || len(b.pending) > 0) && !b.armed {
		b.armed = true
		next := max(b.window, presenceShare*cost)
		if cut {
			next = presenceShare * cost // a backlog goes on at the share's pace
		}
		b.after(next, b.flush)
	}
}
