package main

import (
	"context"
	"sync"
	"sync/atomic"
)

// forEach runs fn for every client with at most conc at a time and returns
// the first error.
func forEach[T any](ctx context.Context, items []T, conc int, fn func(int, T) error) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	var first atomic.Pointer[error]
	for w := 0; w < min(conc, len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) || first.Load() != nil || ctx.Err() != nil {
					return
				}
				if err := fn(i, items[i]); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}
