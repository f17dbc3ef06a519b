package main

import (
	"context"
	"fmt"
	"os"
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

// oneOrderEach creates n orders named prefix..., connects n clients and
// subscribes client i to order i (scenarios 3 and 5). On error it leaves no
// client connected.
func (r *runner) oneOrderEach(ctx context.Context, srv *serverProc, prefix string, n int) ([]*benchOrder, *tracker, []*wsClient, error) {
	orders, err := createOrders(ctx, srv.addr, prefix, n, r.sz.OrderConc)
	if err != nil {
		return nil, nil, nil, err
	}
	tr := newTracker(orders)
	cs, _, err := connectMany(ctx, srv.addr, n, r.sz.ConnConc, tr)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := forEach(ctx, cs, r.sz.SubConc, func(i int, c *wsClient) error {
		return c.subscribe(ctx, []subscription{{order: orders[i]}})
	}); err != nil {
		dropAll(cs)
		return nil, nil, nil, fmt.Errorf("subscribe: %w", err)
	}
	return orders, tr, cs, nil
}
