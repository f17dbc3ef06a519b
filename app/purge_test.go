package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ordercast/ordercast/store"
)

// batches answers each purge call with the next count.
type batches struct {
	counts []int
	limits chan int
}

func (b *batches) PurgeIdempotencyKeys(_ context.Context, _ time.Time, limit int) (int, error) {
	b.limits <- limit
	n := 0
	if len(b.counts) > 0 {
		n, b.counts = b.counts[0], b.counts[1:]
	}
	return n, nil
}

// TestPurgeBatches: a tick purges in bounded batches until one comes back
// short, then waits for the next tick.
func TestPurgeBatches(t *testing.T) {
	b := &batches{counts: []int{store.DefaultPurgeBatch, store.DefaultPurgeBatch, 3}, limits: make(chan int)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		purgeIdempotencyKeys(ctx, b, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Millisecond)
		close(done)
	}()
	for i := range 4 { // three batches of the first tick, then the next tick's first
		select {
		case limit := <-b.limits:
			if limit != store.DefaultPurgeBatch {
				t.Fatalf("call %d: limit %d, want %d", i, limit, store.DefaultPurgeBatch)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("call %d never came", i)
		}
	}
	cancel()
	select {
	case <-b.limits: // a call already under way
	case <-done:
	}
	<-done
}
