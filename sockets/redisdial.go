package sockets

import (
	"context"
	"net"
	"sync"
	"time"
)

// RedisDialer returns a dial function for redis.Options.Dialer that
// spaces out connection attempts after failures; give one to each client
// whose subscriptions the adapter or a receive loop redials.
func RedisDialer(timeout time.Duration) func(context.Context, string, string) (net.Conn, error) {
	return newBackoffDialer(timeout).DialContext
}

// backoffDialer spaces out connection attempts after failures.
//
// Defect 13: the Redis adapter's receive loops (adapters/redis/v3 adapter
// handlePatternMessages, handleChannelMessages) retry at once after any
// error, and go-redis dials a PubSub connection without the pool's retry
// backoff, so while Redis is down each loop would spin at full CPU emitting
// errors. Waiting here, in the dial those loops call, bounds them to one
// attempt per backoff step; the wait resets on the first success, so a
// returning Redis is picked up within maxBackoff.
type backoffDialer struct {
	dialer     net.Dialer
	minBackoff time.Duration
	maxBackoff time.Duration

	mu    sync.Mutex
	fails int
	next  time.Time // no dial before this
}

func newBackoffDialer(timeout time.Duration) *backoffDialer {
	return &backoffDialer{
		dialer:     net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second},
		minBackoff: 50 * time.Millisecond,
		maxBackoff: time.Second,
	}
}

// DialContext has the signature of redis.Options.Dialer.
func (b *backoffDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	b.mu.Lock()
	wait := time.Until(b.next)
	b.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	conn, err := b.dialer.DialContext(ctx, network, addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.fails++
		d := b.minBackoff << min(b.fails-1, 10)
		b.next = time.Now().Add(min(d, b.maxBackoff))
		return nil, err
	}
	b.fails, b.next = 0, time.Time{}
	return conn, nil
}
