package sockets

import (
	"context"
	"net"
	"testing"
	"time"
)

// Defect 13: failing dials are spaced out, and a success resets the wait.
func TestBackoffDialerSpacesFailures(t *testing.T) {
	// A port nobody listens on: connections are refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	d := newBackoffDialer(time.Second)
	ctx := context.Background()
	if _, err := d.DialContext(ctx, "tcp", addr); err == nil {
		t.Fatal("dial of a closed port succeeded")
	}
	start := time.Now()
	if _, err := d.DialContext(ctx, "tcp", addr); err == nil {
		t.Fatal("dial of a closed port succeeded")
	}
	if waited := time.Since(start); waited < d.minBackoff {
		t.Fatalf("second failing dial after %v, want at least %v", waited, d.minBackoff)
	}

	// Cancelled while waiting: returns at once with the context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.DialContext(cctx, "tcp", addr); err != context.Canceled {
		t.Fatalf("dial with a cancelled context: %v, want context.Canceled", err)
	}

	// A success resets the backoff.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	d.mu.Lock()
	fails, next := d.fails, d.next
	d.mu.Unlock()
	if fails != 0 || !next.IsZero() {
		t.Fatalf("after a success: fails %d, next %v; want reset", fails, next)
	}
}
