package sockets

import (
	"sync"
	"sync/atomic"
)

// corker holds back the broadcast frames written while one of ordercast's
// emits runs (Server.emit corks, then uncorks), and writes each
// connection's held frames at the uncork with one write(2): with several
// emits running at once (as many as status changes in flight), a client
// gets the frames of all of them in one write, where it took one write(2)
// per frame, the per-delivery floor. Only broadcast frames are held
// (events without an ack id, heldBack in sharedtext.go: ordercast sends
// every event as a broadcast): acks, heartbeats and the rest are written
// at once, with whatever is held before them. A broadcast that is not
// ordercast's own (the Redis adapter's, from another process) is held too
// while one of ordercast's emits runs: nothing is held past the end of an
// emit that was running when it was held.
type corker struct {
	n     atomic.Int32
	mu    sync.Mutex
	dirty []*wsTransport
	spare []*wsTransport
}

// n changes under mu, so that a connection is never held after the last
// uncork took the list.
func (c *corker) cork() {
	c.mu.Lock()
	c.n.Add(1)
	c.mu.Unlock()
}

// corked is the fast check; hold decides.
func (c *corker) corked() bool { return c.n.Load() > 0 }

// hold records t as holding frames, unless nothing is corked any more;
// t.mu is held.
func (c *corker) hold(t *wsTransport) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n.Load() == 0 {
		return false
	}
	c.dirty = append(c.dirty, t)
	return true
}

// uncork writes what every connection holds, from the caller's goroutine.
func (c *corker) uncork() {
	c.mu.Lock()
	c.n.Add(-1)
	dirty := c.dirty
	c.dirty, c.spare = c.spare[:0], nil
	c.mu.Unlock()
	for i, t := range dirty {
		t.flushHeld()
		dirty[i] = nil
	}
	c.mu.Lock()
	if c.spare == nil {
		c.spare = dirty[:0]
	}
	c.mu.Unlock()
}
