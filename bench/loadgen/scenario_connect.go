package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

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
