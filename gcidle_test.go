package main

import (
	"runtime/metrics"
	"testing"
)

// TestIdleReclaim drives the reclaimer tick by tick: it collects once,
// after quietTicks of little allocation that follow enough garbage, and
// never while the server allocates.
func TestIdleReclaim(t *testing.T) {
	const mb = 1 << 20
	type tick struct {
		allocMB, live uint64 // this tick's allocation; live heap
		freeMB        uint64 // free pages still resident
		gc            bool   // a GC cycle ran during the tick
		requests      uint64 // requests and socket events served
	}
	busy := tick{allocMB: 100, live: 400 * mb}
	quiet := tick{allocMB: 1, live: 400 * mb}
	serving := tick{allocMB: 3, live: 400 * mb} // above idle, below busy
	// 100 status changes a second allocate about as little as heartbeats
	light := tick{allocMB: 1, live: 400 * mb, requests: 25}
	checked := tick{allocMB: 1, live: 400 * mb, requests: idleRequests}
	tests := []struct {
		name  string
		ticks []tick
		want  []int // ticks (0-based) that collect
	}{
		{"a burst, then quiet: once, after two quiet ticks", []tick{busy, busy, quiet, quiet, quiet, quiet}, []int{3}},
		{"always busy: never", []tick{busy, busy, busy, busy, busy}, nil},
		{"quiet with little garbage: never", []tick{quiet, quiet, quiet, quiet, quiet}, nil},
		{"the runtime collected the burst itself and returned its pages: never", []tick{busy, busy, {allocMB: 1, live: 400 * mb, gc: true}, quiet, quiet}, nil},
		{"the runtime collected the burst itself and kept its pages: once", []tick{busy, busy, {allocMB: 1, live: 400 * mb, freeMB: 60, gc: true},
			{allocMB: 1, live: 400 * mb, freeMB: 60}}, []int{3}},
		{"two bursts: twice", []tick{busy, quiet, quiet, quiet, busy, quiet, quiet}, []int{2, 6}},
		{"two bursts within the gap: once", []tick{busy, quiet, quiet, busy, quiet, quiet}, []int{2}},
		{"a burst, then steady serving: never", []tick{busy, serving, serving, serving, serving, serving}, nil},
		{"a burst, then light traffic that allocates little: never", []tick{busy, light, light, light, light, light}, nil},
		{"a burst, then health checks only: once", []tick{busy, checked, checked, checked}, []int{2}},
		{"a trickle: never", []tick{{allocMB: 3, live: 100 * mb}, {allocMB: 3, live: 100 * mb}, {allocMB: 3, live: 100 * mb},
			{allocMB: 3, live: 100 * mb}, {allocMB: 3, live: 100 * mb}, {allocMB: 3, live: 100 * mb}, {allocMB: 3, live: 100 * mb}}, nil},
		{"a small heap needs 16 MiB of garbage", []tick{{allocMB: 5, live: mb}, {allocMB: 5, live: mb}, {allocMB: 1, live: mb},
			{allocMB: 1, live: mb}, {allocMB: 5, live: mb}, {allocMB: 1, live: mb}, {allocMB: 1, live: mb}}, []int{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := idleReclaim{quietTicks: 2, gapTicks: 4}
			var now gcReading
			r.step(now)
			var got []int
			for i, tk := range tt.ticks {
				now.allocs += tk.allocMB * mb
				now.live, now.free = tk.live, tk.freeMB*mb
				now.served += tk.requests
				if tk.gc {
					now.cycles++
				}
				if r.step(now) {
					got = append(got, i)
				}
			}
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
				t.Fatalf("collected at ticks %v, want %v", got, tt.want)
			}
		})
	}
}

// readGC reads the runtime's metrics by their names: a renamed metric
// would leave the reclaimer blind.
func TestReadGC(t *testing.T) {
	samples := gcSamples()
	sink := make([][]byte, 0, 64)
	for range 64 {
		sink = append(sink, make([]byte, 4096))
	}
	g := readGC(samples)
	if g.allocs < 64*4096 || len(sink) != 64 {
		t.Errorf("allocs %d after allocating 256 KiB", g.allocs)
	}
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			t.Errorf("%s: kind %v", s.Name, s.Value.Kind())
		}
	}
}
