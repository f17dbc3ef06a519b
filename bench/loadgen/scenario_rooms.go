package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ---- scenario 3: many rooms at an offered rate ----------------------------

func (r *runner) manyRooms(ctx context.Context, impl, cpus string, round int) []result {
	n := r.sz.S3N
	base := result{Scenario: "3-rooms", Impl: impl, CPUs: cpus, Round: round}
	fail := func(err error) []result {
		base.Param = "setup"
		base.Error = err.Error()
		return []result{base}
	}
	srv, err := r.start(ctx, impl, cpus, fmt.Sprintf("s3-r%d", round), false)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	orders, tr, cs, err := r.oneOrderEach(ctx, srv, "m", n)
	if err != nil {
		return fail(err)
	}
	defer dropAll(cs)

	// Orders free to move: not in flight and not delivered yet.
	var mu sync.Mutex
	free := make([]*benchOrder, len(orders))
	copy(free, orders)
	take := func() *benchOrder {
		mu.Lock()
		defer mu.Unlock()
		if len(free) == 0 {
			return nil
		}
		i := rand.IntN(len(free))
		o := free[i]
		free[i] = free[len(free)-1]
		free = free[:len(free)-1]
		return o
	}
	give := func(o *benchOrder) {
		if o.seq < len(lifecycle) {
			mu.Lock()
			free = append(free, o)
			mu.Unlock()
		}
	}

	var out []result
	stopped := false
	best := 0
	for _, rate := range r.sz.S3Rates {
		res := result{Scenario: "3-rooms", Param: fmt.Sprintf("rate=%d", rate), Impl: impl, CPUs: cpus, Round: round, Metrics: map[string]float64{}}
		if stopped {
			res.Error = "not run: a lower rate was not sustained"
			out = append(out, res)
			continue
		}
		tr.takeLatencies()
		tr.record.Store(true)
		sem := make(chan struct{}, 1024)
		var wg sync.WaitGroup
		var posted, skipped, failed atomic.Int64
		var mine []*change
		var mineMu sync.Mutex
		cpu0 := srv.cpu()
		start := time.Now()
		psec := int(r.sz.S3Step/time.Second) - 1
		wcpu := r.profile(srv, "profile", psec, fmt.Sprintf("%s-s3-rate%d-r%d-cpu.pb.gz", impl, rate, round))
		walloc := r.profile(srv, "allocs", psec, fmt.Sprintf("%s-s3-rate%d-r%d-allocs.pb.gz", impl, rate, round))
		tick := time.NewTicker(time.Millisecond)
		sent := 0
		for now := start; now.Sub(start) < r.sz.S3Step; now = <-tick.C {
			due := int(float64(rate) * now.Sub(start).Seconds())
			for ; sent < due; sent++ {
				o := take()
				if o == nil {
					skipped.Add(1)
					continue
				}
				select {
				case sem <- struct{}{}:
				default:
					give(o)
					skipped.Add(1)
					continue
				}
				c := tr.expect(o, 1)
				mineMu.Lock()
				mine = append(mine, c)
				mineMu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					c.posted.Store(time.Now().UnixNano())
					if err := advance(ctx, srv.addr, o); err != nil {
						failed.Add(1)
					} else {
						posted.Add(1)
					}
					close(c.stored)
					give(o)
				}()
			}
		}
		tick.Stop()
		el := time.Since(start)
		wg.Wait()
		var missing int
		deadline := time.After(5 * time.Second)
	drain:
		for _, c := range mine {
			select {
			case <-c.done:
			case <-deadline:
				break drain
			}
		}
		for _, c := range mine {
			if c.doneAt.Load() == 0 {
				missing++
			}
		}
		tr.record.Store(false)
		cpu1 := srv.cpu()
		wcpu()
		walloc()
		lats := tr.takeLatencies()
		m := res.Metrics
		m["offered_per_s"] = float64(rate)
		m["achieved_per_s"] = float64(posted.Load()) / el.Seconds()
		m["p50_ms"] = pct(lats, 0.50)
		m["p99_ms"] = pct(lats, 0.99)
		m["missing"] = float64(missing) + float64(failed.Load())
		m["skipped"] = float64(skipped.Load())
		m["server_cpu_pct"] = 100 * float64(cpu1-cpu0) / float64(el)
		out = append(out, res)
		ok := m["p99_ms"] < 100 && m["achieved_per_s"] >= 0.95*float64(rate) && missing == 0 && skipped.Load() == 0 && failed.Load() == 0
		if ok {
			best = rate
		}
		if m["p99_ms"] > 1000 || m["achieved_per_s"] < 0.5*float64(rate) || math.IsNaN(m["p99_ms"]) {
			stopped = true
		}
	}
	out = append(out, result{Scenario: "3-rooms", Param: "summary", Impl: impl, CPUs: cpus, Round: round,
		Metrics: map[string]float64{"max_rate_p99_under_100ms": float64(best)}})
	return out
}
