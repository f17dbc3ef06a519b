package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestGroupGathersReadyAppends: appends whose goroutines are ready to run
// together share a transaction, even on one core with a transaction that
// never blocks, where none of them would otherwise run until the one
// before had committed alone.
func TestGroupGathersReadyAppends(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var sizes []int // appended by each group's leader, one after another
	g := newAppendGroup(func(_ context.Context, reqs []*appendReq) (error, bool) {
		sizes = append(sizes, len(reqs))
		return nil, false
	})
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, _, err := g.append(context.Background(), fmt.Sprint("o", i), nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The scheduler may run a leader early now and then (the race
	// detector shuffles it): most appends must still share.
	if len(sizes) > n/4 {
		t.Fatalf("%d appends ready together took %d transactions (sizes %v), want at most %d", n, len(sizes), sizes, n/4)
	}
}
