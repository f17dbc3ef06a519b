package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ---- scenarios 2 and 4: fan-out to one room ---------------------------

type sioClient interface {
	subscribe(ctx context.Context, subs []subscription) error
	Close()
}

// fanout: n clients follow the same orders; every POST is one broadcast to
// all n. First serial changes one at a time (time until all n have it),
// then the rest with window changes in flight (deliveries per second, CPU
// per delivery).
func (r *runner) fanout(ctx context.Context, impl, cpus string, round int, polling bool) result {
	n, k, name := r.sz.S2N, r.sz.S2Orders, "2-fanout"
	if polling {
		n, k, name = r.sz.S4N, r.sz.S4Orders, "4-polling"
	}
	res := result{Scenario: name, Param: fmt.Sprintf("n=%d", n), Impl: impl, CPUs: cpus, Round: round, Metrics: map[string]float64{}}
	fail := func(err error) result { res.Error = err.Error(); return res }
	srv, err := r.start(ctx, impl, cpus, fmt.Sprintf("%s-%s-r%d", name, cpus, round), false)
	if err != nil {
		return fail(err)
	}
	defer srv.stop()
	orders, err := createOrders(ctx, srv.addr, "f", k, r.sz.OrderConc)
	if err != nil {
		return fail(err)
	}
	tr := newTracker(orders)
	var clients []sioClient
	defer func() {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() { defer wg.Done(); c.Close() }()
		}
		wg.Wait()
	}()
	if polling {
		cs := make([]*pollClient, n)
		err = forEach(ctx, cs, 100, func(i int, _ *pollClient) error {
			c, err := dialPolling(ctx, srv.addr, tr)
			cs[i] = c
			return err
		})
		for _, c := range cs {
			if c != nil {
				clients = append(clients, c)
			}
		}
	} else {
		var cs []*wsClient
		retries := connectRetries.Load()
		cs, _, err = connectMany(ctx, srv.addr, n, r.sz.ConnConc, tr)
		res.Metrics["connect_retries"] = float64(connectRetries.Load() - retries)
		for _, c := range cs {
			clients = append(clients, c)
		}
	}
	if err != nil {
		return fail(err)
	}
	subs := make([]subscription, k)
	for i, o := range orders {
		subs[i] = subscription{order: o}
	}
	t0 := time.Now()
	wsub := r.profile(srv, "profile", r.sz.ProfSeconds, fmt.Sprintf("%s-%s-cpus%s-r%d-subscribe-cpu.pb.gz", impl, name, cpus, round))
	if err := forEach(ctx, clients, r.sz.SubConc, func(_ int, c sioClient) error { return c.subscribe(ctx, subs) }); err != nil {
		return fail(fmt.Errorf("subscribe: %w", err))
	}
	res.Metrics["subscribe_per_s"] = float64(n*k) / time.Since(t0).Seconds()
	wsub()

	// Changes in round-robin over the orders: change j is step j/k of order j%k.
	total := k * (len(lifecycle) - 1)
	serial := min(r.sz.S2Serial, total/3)
	var missing atomic.Int64
	wait := func(c *change) {
		select {
		case <-c.done:
		case <-time.After(r.sz.Wait):
			missing.Add(int64(c.expect - c.got.Load()))
		case <-ctx.Done():
		}
	}
	post := func(c *change) error {
		c.posted.Store(time.Now().UnixNano())
		err := advance(ctx, srv.addr, c.order)
		close(c.stored)
		return err
	}
	var times []time.Duration
	for j := 0; j < serial; j++ {
		c := tr.expect(orders[j%k], n)
		if err := post(c); err != nil {
			return fail(err)
		}
		wait(c)
		times = append(times, c.elapsed())
	}
	// Throughput phase.
	changes := make([]*change, total)
	cpu0, self0 := srv.cpu(), selfCPU()
	d0 := tr.deliveries.Load()
	start := time.Now()
	tag := fmt.Sprintf("%s-%s-cpus%s-r%d", impl, name, cpus, round)
	wcpu := r.profile(srv, "profile", r.sz.ProfSeconds, tag+"-cpu.pb.gz")
	walloc := r.profile(srv, "allocs", r.sz.ProfSeconds, tag+"-allocs.pb.gz")
	defer walloc()
	defer wcpu()
	var wg sync.WaitGroup
	var postErr atomic.Pointer[error]
	jobs := make(chan int)
	for w := 0; w < r.sz.S2Window; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := changes[j]
				if p := j - k; p >= serial {
					<-changes[p].stored // the order's previous step is stored
				}
				if err := post(c); err != nil {
					postErr.CompareAndSwap(nil, &err)
					continue
				}
				wait(c)
			}
		}()
	}
	for j := serial; j < total; j++ {
		// Registering here, in order, keeps each order's seq right: the
		// previous step of the same order was registered k jobs earlier.
		o := orders[j%k]
		changes[j] = tr.expect(o, n)
		o.seq++ // the seq the POST will create; advance() sees it below
		changes[j].order = &benchOrder{id: o.id, token: o.token, seq: o.seq - 1}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	if p := postErr.Load(); p != nil {
		return fail(*p)
	}
	last := start
	for _, c := range changes[serial:] {
		if t := time.Unix(0, c.doneAt.Load()); c.doneAt.Load() != 0 && t.After(last) {
			last = t
		}
	}
	el := last.Sub(start)
	cpu1, self1 := srv.cpu(), selfCPU()
	dn := tr.deliveries.Load() - d0
	var ttimes []time.Duration
	for _, c := range changes[serial:] {
		if c.doneAt.Load() != 0 {
			ttimes = append(ttimes, c.elapsed())
		}
	}
	m := res.Metrics
	m["change_p50_ms"] = pct(times, 0.50)
	m["change_p99_ms"] = pct(times, 0.99)
	m["deliveries_per_s"] = float64(dn) / el.Seconds()
	m["cpu_per_delivery_us"] = float64((cpu1 - cpu0).Microseconds()) / float64(dn)
	m["server_cpu_pct"] = 100 * float64(cpu1-cpu0) / float64(el)
	m["loadgen_cpu_pct"] = 100 * float64(self1-self0) / float64(el)
	m["window_change_p50_ms"] = pct(ttimes, 0.50)
	m["window_change_p99_ms"] = pct(ttimes, 0.99)
	m["missing"] = float64(missing.Load())
	return res
}
