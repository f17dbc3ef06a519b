package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// connectRetries counts connects that failed and were tried again, as a
// stock client does (it reconnects): the v3 library sometimes loses a
// CONNECT reply, and ordercast then closes the connection at its connect
// timeout so that the client retries (sockets/workarounds.go).
var connectRetries atomic.Int64

// dialRetry is dialWS tried up to 4 times.
func dialRetry(ctx context.Context, addr string, sink statusSink) (*wsClient, error) {
	for attempt := 1; ; attempt++ {
		c, err := dialWS(ctx, addr, sink, nil)
		if err == nil || attempt == 4 || ctx.Err() != nil {
			return c, err
		}
		connectRetries.Add(1)
	}
}

// connectMany dials n clients with at most conc handshakes in flight and
// returns them with each one's connect time.
func connectMany(ctx context.Context, addr string, n, conc int, sink statusSink) ([]*wsClient, []time.Duration, error) {
	cs := make([]*wsClient, n)
	lat := make([]time.Duration, n)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	var next atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < min(conc, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				c, err := dialRetry(ctx, addr, sink)
				if err != nil {
					select {
					case errs <- fmt.Errorf("client %d: %w", i, err):
					default:
					}
					cancel()
					return
				}
				lat[i] = time.Since(t0)
				cs[i] = c
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		dropAll(cs)
		return nil, nil, err
	default:
	}
	return cs, lat, nil
}
