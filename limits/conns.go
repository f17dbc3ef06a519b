package limits

import "sync"

// Conns caps concurrent connections per key. It is safe for concurrent
// use.
type Conns struct {
	max int
	mu  sync.Mutex
	n   map[string]int // keys with no connection are absent: bounded memory
}

// NewConns returns a cap of max connections per key.
func NewConns(max int) *Conns { return &Conns{max: max, n: map[string]int{}} }

// Acquire takes a slot for key unless key holds max already.
func (c *Conns) Acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] >= c.max {
		return false
	}
	c.n[key]++
	return true
}

// Force takes a slot whatever the count: for a connection that exists
// already and must be counted so that its Release balances.
func (c *Conns) Force(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

// Release frees one of key's slots.
func (c *Conns) Release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] <= 1 {
		delete(c.n, key)
		return
	}
	c.n[key]--
}

// Count is key's number of connections (tests, metrics).
func (c *Conns) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}
