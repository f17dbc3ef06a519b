package limits

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PerAddress is one token bucket per key (see Key). Buckets of keys gone
// idle are dropped, so a spray of addresses cannot grow it without bound.
// It is safe for concurrent use.
type PerAddress struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// sweepAbove is the map size above which idle buckets are dropped; a
// bucket that has refilled completely holds no state worth keeping.
const sweepAbove = 1024

// NewPerAddress returns buckets that refill at perSecond tokens a second
// and hold up to burst (at least 1), read on clock now (nil: time.Now).
func NewPerAddress(perSecond float64, burst int, now func() time.Time) *PerAddress {
	if now == nil {
		now = time.Now
	}
	return &PerAddress{limit: rate.Limit(perSecond), burst: max(burst, 1), now: now,
		buckets: map[string]*rate.Limiter{}, lastSweep: now()}
}

// Allow takes a token from key's bucket when one is left.
func (p *PerAddress) Allow(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	l := p.buckets[key]
	if l == nil {
		// Only a new key grows the map, so only it pays for a sweep.
		p.sweep(t)
		l = rate.NewLimiter(p.limit, p.burst)
		p.buckets[key] = l
	}
	return l.AllowN(t, 1)
}

// sweep drops full buckets, at most once a second, so the map holds only
// the addresses seen in the last burst/rate seconds.
func (p *PerAddress) sweep(t time.Time) {
	if len(p.buckets) < sweepAbove || t.Sub(p.lastSweep) < time.Second {
		return
	}
	p.lastSweep = t
	for k, l := range p.buckets {
		if l.TokensAt(t) >= float64(p.burst) {
			delete(p.buckets, k)
		}
	}
}

// Len is the number of buckets kept (tests, metrics).
func (p *PerAddress) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}
