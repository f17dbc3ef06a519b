package handlers

import (
	"sync"
	"time"
)

// eventLimiter is a token bucket for one socket's events, which also spots
// abusers: a socket that keeps sending at ten times the rate for five
// seconds is disconnected.
type eventLimiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time

	// Rejections are counted per one-second window; abuseSince is when the
	// current run of abusive windows started.
	window     time.Time
	rejected   int
	abuseSince time.Time
	abusing    bool
}

const (
	abuseFactor   = 10
	abuseDuration = 5 * time.Second
)

func newEventLimiter(rate float64, burst int, now func() time.Time) *eventLimiter {
	t := now()
	return &eventLimiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: t, now: now, window: t}
}

// allow takes a token when one is left.
func (l *eventLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.tokens = min(l.burst, l.tokens+t.Sub(l.last).Seconds()*l.rate)
	l.last = t
	l.roll(t)
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	l.rejected++
	return false
}

// roll closes one-second windows: a window with more rejections than
// (abuseFactor-1) x rate continues a run of abuse; any other ends it.
func (l *eventLimiter) roll(t time.Time) {
	for t.Sub(l.window) >= time.Second {
		abusive := float64(l.rejected) >= (abuseFactor-1)*l.rate
		switch {
		case abusive && !l.abusing:
			l.abusing, l.abuseSince = true, l.window
		case !abusive:
			l.abusing = false
		}
		l.rejected = 0
		l.window = l.window.Add(time.Second)
		if t.Sub(l.window) > 2*time.Second { // idle for long: skip ahead
			l.window = t
			l.abusing = false
		}
	}
}

// abusive reports whether the socket has flooded for abuseDuration.
func (l *eventLimiter) abusive() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.abusing && l.now().Sub(l.abuseSince) >= abuseDuration
}
