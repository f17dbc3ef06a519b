package limits

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Events is the token bucket of one socket's events, which also spots
// abusers: a socket that keeps sending at AbuseFactor times the rate for
// AbuseDuration is reported abusive, so the caller can disconnect it. It
// is safe for concurrent use.
type Events struct {
	lim  *rate.Limiter
	rate float64
	now  func() time.Time

	mu sync.Mutex
	// Rejections are counted per one-second window; abuseSince is when the
	// current run of abusive windows started.
	window     time.Time
	rejected   int
	abuseSince time.Time
	abusing    bool
}

const (
	// AbuseFactor is the multiple of the rate that counts as flooding.
	AbuseFactor = 10
	// AbuseDuration is how long a flood lasts before it is abusive.
	AbuseDuration = 5 * time.Second
)

// NewEvents returns a bucket that refills at perSecond events a second and
// holds up to burst, read on clock now (nil: time.Now).
func NewEvents(perSecond float64, burst int, now func() time.Time) *Events {
	if now == nil {
		now = time.Now
	}
	return &Events{lim: rate.NewLimiter(rate.Limit(perSecond), burst), rate: perSecond, now: now, window: now()}
}

// Allow takes a token when one is left (ok). abusive reports whether the
// socket has flooded for AbuseDuration, up to and including this event.
func (e *Events) Allow() (ok, abusive bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// One reading of the clock for the bucket and the windows, so that the
	// two agree on when this event happened.
	t := e.now()
	e.roll(t)
	ok = e.lim.AllowN(t, 1)
	if !ok {
		e.rejected++
	}
	return ok, e.abusing && t.Sub(e.abuseSince) >= AbuseDuration
}

// roll closes one-second windows: a window with at least (AbuseFactor-1) x
// rate rejections (the rate itself gets through) continues a run of abuse;
// any other ends it.
func (e *Events) roll(t time.Time) {
	for t.Sub(e.window) >= time.Second {
		abusive := float64(e.rejected) >= (AbuseFactor-1)*e.rate
		switch {
		case abusive && !e.abusing:
			e.abusing, e.abuseSince = true, e.window
		case !abusive:
			e.abusing = false
		}
		e.rejected = 0
		e.window = e.window.Add(time.Second)
		if t.Sub(e.window) > 2*time.Second { // idle for long: skip ahead
			e.window = t
			e.abusing = false
		}
	}
}
