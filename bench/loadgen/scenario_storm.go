package main

import (
	"context"
	"fmt"
	"time"
)

// ---- scenario 5: reconnect storm ---------------------------------------

func (r *runner) storm(ctx context.Context, impl, cpus string, round int) result {
	n := r.sz.S5N
	res := result{Scenario: "5-storm", Param: fmt.Sprintf("n=%d", n), Impl: impl, CPUs: cpus, Round: round, Metrics: map[string]float64{}}
	fail := func(err error) result { res.Error = err.Error(); return res }
	srv, err := r.start(ctx, impl, cpus, fmt.Sprintf("s5-r%d", round), false)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	orders, tr, cs, err := r.oneOrderEach(ctx, srv, "s", n)
	if err != nil {
		return fail(err)
	}
	cpu0, retries := srv.cpu(), connectRetries.Load()
	t0 := time.Now()
	dropAll(cs)
	lat := make([]time.Duration, n)
	err = forEach(ctx, cs, r.sz.S5Conc, func(i int, _ *wsClient) error {
		t := time.Now()
		c, err := dialRetry(ctx, srv.addr, tr)
		if err != nil {
			return err
		}
		cs[i] = c
		if err := c.subscribe(ctx, []subscription{{order: orders[i], since: orders[i].seq}}); err != nil {
			return err
		}
		lat[i] = time.Since(t)
		return nil
	})
	el := time.Since(t0)
	cpu1 := srv.cpu()
	defer dropAll(cs)
	if err != nil {
		return fail(fmt.Errorf("reconnect: %w", err))
	}
	m := res.Metrics
	m["all_back_s"] = el.Seconds()
	m["connect_retries"] = float64(connectRetries.Load() - retries)
	m["reconnect_per_s"] = float64(n) / el.Seconds()
	m["client_p50_ms"] = pct(lat, 0.50)
	m["client_p99_ms"] = pct(lat, 0.99)
	m["cpu_per_reconnect_us"] = float64((cpu1 - cpu0).Microseconds()) / float64(n)
	return res
}
