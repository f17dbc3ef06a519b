// Package testenv holds what tests need from this machine's services, with
// one rule for all of them: a service that is absent skips the test, except
// under CI=true, where its absence is a failure.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Require skips tb (fails it under CI=true) when err says what tb needs is
// missing.
func Require(tb testing.TB, err error, what string) {
	tb.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (required in CI): %v", what, err)
	}
	tb.Skipf("%s: %v", what, err)
}

// RedisURL returns the test Redis (ORDERCAST_TEST_REDIS_URL, default
// redis://127.0.0.1:6379) once it accepts a connection.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("ORDERCAST_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379"
	}
	parsed, err := url.Parse(u)
	if err == nil {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", parsed.Host, 2*time.Second); err == nil {
			_ = c.Close()
		}
	}
	Require(tb, err, "Redis not reachable (set ORDERCAST_TEST_REDIS_URL)")
	return u
}
