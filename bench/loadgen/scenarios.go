package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sizes of one benchmark run.
type sizes struct {
	S1N         []int         // scenario 1: clients per step
	ConnConc    int           // handshakes in flight while connecting
	Settle      time.Duration // idle time before reading RSS
	S2N         int           // scenario 2: subscribers
	S2Orders    int           // orders followed by every subscriber (5 changes each)
	S2Serial    int           // changes posted one at a time (latency)
	S2Window    int           // changes in flight in the throughput phase
	S3N         int           // scenario 3: clients, one order each
	S3Rates     []int         // offered status changes per second
	S3Step      time.Duration // duration of one rate
	S4N         int           // scenario 4: long-polling clients
	S4Orders    int
	S5N         int // scenario 5: clients dropped at once
	S5Conc      int // reconnect handshakes in flight
	Wait        time.Duration
	SubConc     int
	OrderConc   int
	ProfSeconds int // CPU and allocation profiles of the fan-out's throughput phase
}

var scales = map[string]sizes{
	"full": {
		S1N: []int{1000, 10000, 19000}, ConnConc: 256, Settle: 3 * time.Second,
		S2N: 10000, S2Orders: 10, S2Serial: 15, S2Window: 8,
		S3N: 10000, S3Rates: []int{100, 250, 500, 1000, 2000, 4000}, S3Step: 5 * time.Second,
		S4N: 1000, S4Orders: 8,
		S5N: 10000, S5Conc: 1000,
		Wait: 60 * time.Second, SubConc: 256, OrderConc: 16, ProfSeconds: 5,
	},
	"small": {
		S1N: []int{300}, ConnConc: 64, Settle: time.Second,
		S2N: 500, S2Orders: 10, S2Serial: 8, S2Window: 8,
		S3N: 300, S3Rates: []int{50, 100, 200}, S3Step: 2 * time.Second,
		S4N: 100, S4Orders: 2,
		S5N: 500, S5Conc: 200,
		Wait: 20 * time.Second, SubConc: 64, OrderConc: 8, ProfSeconds: 2,
	},
}

// result is one scenario's figures for one implementation in one round.
type result struct {
	Scenario string             `json:"scenario"`
	Param    string             `json:"param"`
	Impl     string             `json:"impl"`
	CPUs     string             `json:"cpus"`
	Round    int                `json:"round"`
	Metrics  map[string]float64 `json:"metrics"`
	Error    string             `json:"error,omitempty"`
}

type runner struct {
	sz         sizes
	profileDir string
	spec       func(impl string) serverSpec
	emit       func(result)
}

func (r *runner) start(ctx context.Context, impl, cpus, tag string, pprof bool) (*serverProc, error) {
	sp := r.spec(impl)
	sp.cpus = cpus
	sp.pprof = sp.impl == "ordercast" && (pprof || r.profileDir != "")
	return startServer(ctx, sp, impl+"-"+tag)
}

func selfCPU() time.Duration { return procCPU(os.Getpid()) }

// ---- scenario 1: connect -----------------------------------------------

func (r *runner) connect(ctx context.Context, impl, cpus string, round, n int) result {
	res := result{Scenario: "1-connect", Param: fmt.Sprintf("n=%d", n), Impl: impl, CPUs: cpus, Round: round, Metrics: map[string]float64{}}
	srv, err := r.start(ctx, impl, cpus, fmt.Sprintf("s1-n%d-r%d", n, round), true)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer srv.stop()
	rss0, g0, cpu0 := srv.rss(), srv.goroutines(), srv.cpu()
	mem0 := srv.memStats()
	t0, retries := time.Now(), connectRetries.Load()
	cs, lat, err := connectMany(ctx, srv.addr, n, r.sz.ConnConc, nullSink{})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer func() { dropAll(cs) }()
	el := time.Since(t0)
	cpu1 := srv.cpu()
	idle := time.NewTimer(r.sz.Settle) // pacing: let the server go idle before measuring
	select {
	case <-idle.C:
	case <-ctx.Done():
	}
	rss1, g1 := srv.rss(), srv.goroutines()
	mem1 := srv.memStats() // after RSS: it forces a GC
	r.profile(srv, "heap", 0, fmt.Sprintf("%s-s1-n%d-heap.pb.gz", impl, n))()
	r.profile(srv, "goroutine", 0, fmt.Sprintf("%s-s1-n%d-goroutine.pb.gz", impl, n))()
	m := res.Metrics
	m["connect_per_s"] = float64(n) / el.Seconds()
	m["connect_retries"] = float64(connectRetries.Load() - retries)
	m["connect_p50_ms"] = pct(lat, 0.50)
	m["connect_p99_ms"] = pct(lat, 0.99)
	m["cpu_per_connect_us"] = float64((cpu1 - cpu0).Microseconds()) / float64(n)
	m["rss_per_conn_kb"] = float64(rss1-rss0) / float64(n) / 1024
	m["rss_idle_mb"] = float64(rss1) / (1 << 20)
	if g0 >= 0 && g1 >= 0 {
		m["goroutines_per_conn"] = float64(g1-g0) / float64(n)
	}
	for _, k := range []string{"HeapInuse", "StackInuse"} {
		if a, ok := mem0[k]; ok {
			m[strings.ToLower(k)+"_per_conn_kb"] = float64(mem1[k]-a) / float64(n) / 1024
		}
	}
	// Disconnect everyone: what the server keeps afterwards is a leak.
	dropAll(cs)
	cs = nil
	if g0 >= 0 {
		idle.Reset(r.sz.Settle)
		select {
		case <-idle.C:
		case <-ctx.Done():
		}
		if g2 := srv.goroutines(); g2 >= 0 {
			m["goroutines_left_per_conn"] = float64(g2-g0) / float64(n)
		}
		if a, ok := mem0["HeapInuse"]; ok {
			srv.memStats() // the first GC only runs the queues' finalizers
			m["heap_left_per_conn_kb"] = float64(srv.memStats()["HeapInuse"]-a) / float64(n) / 1024
		}
		r.profile(srv, "goroutine", 0, fmt.Sprintf("%s-s1-n%d-goroutine-after-close.pb.gz", impl, n))()
		r.profile(srv, "heap", 0, fmt.Sprintf("%s-s1-n%d-heap-after-close.pb.gz", impl, n))()
	}
	return res
}

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
	orders, err := createOrders(ctx, srv.addr, "m", n, r.sz.OrderConc)
	if err != nil {
		return fail(err)
	}
	tr := newTracker(orders)
	cs, _, err := connectMany(ctx, srv.addr, n, r.sz.ConnConc, tr)
	if err != nil {
		return fail(err)
	}
	defer dropAll(cs)
	if err := forEach(ctx, cs, r.sz.SubConc, func(i int, c *wsClient) error {
		return c.subscribe(ctx, []subscription{{order: orders[i]}})
	}); err != nil {
		return fail(fmt.Errorf("subscribe: %w", err))
	}

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
	orders, err := createOrders(ctx, srv.addr, "s", n, r.sz.OrderConc)
	if err != nil {
		return fail(err)
	}
	tr := newTracker(orders)
	cs, _, err := connectMany(ctx, srv.addr, n, r.sz.ConnConc, tr)
	if err != nil {
		return fail(err)
	}
	if err := forEach(ctx, cs, r.sz.SubConc, func(i int, c *wsClient) error {
		return c.subscribe(ctx, []subscription{{order: orders[i]}})
	}); err != nil {
		dropAll(cs)
		return fail(fmt.Errorf("subscribe: %w", err))
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
