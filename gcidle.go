package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Idle reclaim: Go collects garbage only when the heap reaches its goal
// (5x the live heap at ordercast's GOGC=400), so the garbage of a burst
// (a reconnect storm, a wave of subscribes) stays resident for as long as
// the server stays quiet afterwards: about 7 KB per connection after
// 10k connects (bench/RESULTS.md). Once the allocation rate has stayed low
// for a while after such a burst, one collection returns it to the OS, as
// V8's memory reducer does for Node. A busy server never pays for it, nor
// does one serving light traffic: the collection marks the whole live
// heap, and on one core the requests served meanwhile waited for it
// (bench/RESULTS.md: scenario 3's p99 at 250 changes/s, 13 ms with it
// during the traffic, 1.5 ms without).

// gcReading is what the reclaimer samples each tick.
type gcReading struct {
	allocs uint64 // bytes allocated since the process started
	cycles uint64 // GC cycles completed
	live   uint64 // heap live after the last GC
	free   uint64 // heap free but still resident (not yet returned)
	served uint64 // requests and socket events clients sent so far
}

// idleRequests is the most requests a tick may see and still be idle: a
// load balancer's health checks and a metrics scrape, each about once a
// second.
const idleRequests = 1

// idleReclaim decides when to collect; step is called once per tick.
type idleReclaim struct {
	quietTicks int // idle ticks before a collection
	gapTicks   int // ticks from one collection to the next, at least
	last       gcReading
	sinceGC    uint64 // bytes allocated since the last GC cycle
	quiet      int    // consecutive idle ticks
	burst      bool   // a busy tick since the last collection
	since      int    // ticks since the last collection
	started    bool
}

// step takes this tick's reading; true: collect now.
func (r *idleReclaim) step(now gcReading) bool {
	if !r.started {
		r.last, r.started, r.since = now, true, r.gapTicks
		return false
	}
	delta := now.allocs - r.last.allocs
	requests := now.served - r.last.served
	if now.cycles != r.last.cycles {
		r.sinceGC = delta // most of it was collected; a fair upper bound
	} else {
		r.sinceGC += delta
	}
	r.last = now
	r.since++
	switch {
	case delta > max(4<<20, now.live/64): // busy: a burst
		r.quiet, r.burst = 0, true
		return false
	case delta > max(1<<20, now.live/256), requests > idleRequests: // serving, not idle
		r.quiet = 0
		return false
	}
	// Idle: no one asks anything, and little more than the heartbeats of
	// the connections held is allocated.
	r.quiet++
	// Worth it: garbage and free pages of at least 1/8 of the live heap
	// (16 MiB at least), left by a burst: a steady load is the runtime's
	// to collect. The runtime keeps free pages resident up to its heap
	// goal, so a GC during the burst leaves them. Never more often than
	// gapTicks, whatever the traffic's shape: a collection marks the whole
	// live heap.
	if !r.burst || r.quiet < r.quietTicks || r.since < r.gapTicks || r.sinceGC+now.free < max(16<<20, now.live/8) {
		return false
	}
	r.sinceGC, r.burst, r.since = 0, false, 0 // once per burst
	return true
}

func gcSamples() []metrics.Sample {
	return []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
}

// readGC samples the runtime's metrics.
func readGC(samples []metrics.Sample) gcReading {
	metrics.Read(samples)
	var g gcReading
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			continue
		}
		switch s.Name {
		case "/gc/heap/allocs:bytes":
			g.allocs = s.Value.Uint64()
		case "/gc/cycles/total:gc-cycles":
			g.cycles = s.Value.Uint64()
		case "/gc/heap/live:bytes":
			g.live = s.Value.Uint64()
		case "/memory/classes/heap/free:bytes":
			g.free = s.Value.Uint64()
		}
	}
	return g
}

// reclaimWhenIdle runs until ctx ends: after quietFor of little
// allocation and no requests (served counts them) following a burst, it
// collects once and returns the freed memory to the OS, at most once in
// 30 s. quietFor <= 0 turns it off.
func reclaimWhenIdle(ctx context.Context, quietFor time.Duration, served func() uint64, log *slog.Logger) {
	const tick = 250 * time.Millisecond
	const gap = 30 * time.Second
	if quietFor <= 0 {
		return
	}
	samples := gcSamples()
	r := idleReclaim{quietTicks: max(1, int(quietFor/tick)), gapTicks: int(gap / tick)}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := readGC(samples)
		now.served = served()
		if r.step(now) {
			start := time.Now()
			debug.FreeOSMemory()
			log.Debug("idle reclaim", "took", time.Since(start))
		}
	}
}
