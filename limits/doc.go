// Package limits holds the server's rate limits and connection caps: the
// token bucket of one socket's events with its flood detection (Events),
// one token bucket per client address (PerAddress), a cap on concurrent
// connections per address (Conns), and the key an address is counted
// under (Key).
//
// Buckets are golang.org/x/time/rate Limiters driven by an injected clock,
// so the limits behave the same under test as in production without
// sleeping.
package limits
