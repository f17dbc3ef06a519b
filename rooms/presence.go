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

// presenceBatch holds the newest counts of the orders changed in the
// current window and emits them when it ends, one order at a time.
type presenceBatch struct {
	window time.Duration
	emit   func(orderID string, c presence.Counts)

	mu      sync.Mutex
	pending map[string]presence.Counts
	armed   bool

	// flushing keeps flushes one at a time, so that an order's counts go
	// out in the order they changed even when emitting outlasts a window.
	flushing sync.Mutex
}

func newPresenceBatch(window time.Duration, emit func(string, presence.Counts)) *presenceBatch {
	return &presenceBatch{window: window, emit: emit, pending: map[string]presence.Counts{}}
}

func (b *presenceBatch) add(orderID string, c presence.Counts) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending[orderID] = c
	if !b.armed {
		b.armed = true
		time.AfterFunc(b.window, b.flush)
	}
}

func (b *presenceBatch) flush() {
	b.flushing.Lock()
	defer b.flushing.Unlock()
	b.mu.Lock()
	pending := b.pending
	b.pending, b.armed = map[string]presence.Counts{}, false
	b.mu.Unlock()
	for id, c := range pending {
		b.emit(id, c)
	}
}
