// Command loadgen benchmarks ordercast against the Node.js socket.io
// reference server (bench/reference/server.mjs). It speaks Engine.IO v4 /
// Socket.IO v5 itself, over WebSocket and HTTP long-polling, starts each
// server under taskset, runs the scenarios alternately (ordercast, Node,
// ordercast, Node, ...) and prints one JSON line and one table row per
// figure, then the median of the rounds and the ordercast/Node ratio.
//
// Scenarios:
//
//	1 connect    N clients (1k, 10k, 19k): connect rate, RSS and goroutines per connection
//	2 fan-out    N subscribers of the same orders, each POST one broadcast to all N:
//	             time until all N have a change (p50, p99), deliveries/s, CPU per delivery
//	3 rooms      N clients each in its own order room, changes to random orders at
//	             offered rates: end-to-end p50/p99, highest rate with p99 < 100 ms
//	4 polling    scenario 2 with 1k long-polling clients
//	5 storm      N subscribed clients dropped at once: time until all are back and resubscribed
//
// Run it through bench/run.sh (make bench).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
)

func main() {
	var (
		scale      = flag.String("scale", "full", "full or small")
		rounds     = flag.Int("rounds", 3, "rounds; each runs every scenario on both servers, alternately")
		only       = flag.String("scenarios", "1,2,3,4,5", "scenarios to run")
		impls      = flag.String("impls", "ordercast,node", "implementations, in the order of the first round (rotated each round)")
		pinned     = flag.String("server-cpus", "0", "CPUs of the server in the pinned runs (taskset list)")
		unpinned   = flag.String("unpinned-cpus", "0,1", "CPUs of the server in the unpinned scenario-2 runs; empty: skip")
		ordercast  = flag.String("ordercast", "./ordercast", "ordercast binary")
		nodeBin    = flag.String("node", "node", "node binary")
		reference  = flag.String("reference", "bench/reference/server.mjs", "reference server")
		ocEnv      = flag.String("ordercast-env", "", "extra environment of ordercast, space separated (e.g. GOGC=200)")
		alt        = flag.String("alt", "", `second ordercast binary, run as implementation "alt" (A/B of a change)`)
		altEnv     = flag.String("alt-env", "", "extra environment of alt")
		altOnly    = flag.String("alt-scenarios", "", "scenarios alt runs in (default: all)")
		dataRoot   = flag.String("data-root", "/dev/shm", "parent of the servers' data directories")
		outDir     = flag.String("out", "", "directory for results.jsonl, summary.md and server logs (default: a temp dir)")
		override   = flag.String("sizes", "", `JSON overriding sizes of the scale, e.g. {"S2N":1000,"S2Orders":10}`)
		profileDir = flag.String("profile", "", "capture ordercast pprof profiles here (needs --pprof wired in ordercast)")
		selfProf   = flag.String("cpuprofile", "", "write the load generator's own CPU profile here")
	)
	flag.Parse()
	sz, ok := scales[*scale]
	if !ok {
		fatalf("unknown scale %q", *scale)
	}
	if *override != "" {
		if err := json.Unmarshal([]byte(*override), &sz); err != nil {
			fatalf("-sizes: %v", err)
		}
	}
	if *outDir == "" {
		d, err := os.MkdirTemp("", "ordercast-bench-")
		if err != nil {
			fatalf("%v", err)
		}
		*outDir = d
	}
	must(os.MkdirAll(*outDir, 0o755))
	jsonl, err := os.Create(filepath.Join(*outDir, "results.jsonl"))
	must(err)
	defer jsonl.Close()

	if *selfProf != "" {
		f, err := os.Create(*selfProf)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env := strings.Fields(*ocEnv)
	r := &runner{sz: sz}
	r.spec = func(impl string) serverSpec {
		sp := serverSpec{impl: impl, ordercast: *ordercast, node: *nodeBin, reference: *reference,
			dataRoot: *dataRoot, logDir: *outDir}
		switch impl {
		case "ordercast":
			sp.env = env
		case "alt":
			sp.impl, sp.ordercast, sp.env = "ordercast", *alt, strings.Fields(*altEnv)
		}
		return sp
	}
	r.profileDir = *profileDir
	var all []result
	r.emit = func(res result) {
		all = append(all, res)
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
		_, _ = jsonl.Write(append(b, '\n'))
		printRow(os.Stdout, res)
	}

	header(os.Stdout, sz, *scale, *rounds, *pinned, *unpinned, env)
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	order := strings.Split(*impls, ",")
	altWant := want
	if *altOnly != "" {
		altWant = map[string]bool{}
		for _, s := range strings.Split(*altOnly, ",") {
			altWant[strings.TrimSpace(s)] = true
		}
	}
	runs := func(impl, scenario string) bool { return impl != "alt" || altWant[scenario] }
	for round := 1; round <= *rounds && ctx.Err() == nil; round++ {
		turn := rotate(order, round-1)
		fmt.Printf("\n## round %d of %d (%s)\n", round, *rounds, strings.Join(turn, ", "))
		for _, s := range []string{"1", "2", "3", "4", "5"} {
			if !want[s] {
				continue
			}
			for _, impl := range turn {
				if ctx.Err() != nil {
					break
				}
				if !runs(impl, s) {
					continue
				}
				switch s {
				case "1":
					for _, n := range sz.S1N {
						r.emit(r.connect(ctx, impl, *pinned, round, n))
					}
				case "2":
					r.emit(r.fanout(ctx, impl, *pinned, round, false))
				case "3":
					for _, res := range r.manyRooms(ctx, impl, *pinned, round) {
						r.emit(res)
					}
				case "4":
					r.emit(r.fanout(ctx, impl, *pinned, round, true))
				case "5":
					r.emit(r.storm(ctx, impl, *pinned, round))
				}
			}
		}
		if *unpinned != "" && want["2"] {
			for _, impl := range turn {
				if ctx.Err() == nil && runs(impl, "2") {
					r.emit(r.fanout(ctx, impl, *unpinned, round, false))
				}
			}
		}
	}
	f, err := os.Create(filepath.Join(*outDir, "summary.md"))
	must(err)
	defer f.Close()
	w := io.MultiWriter(os.Stdout, f)
	summary(w, all, order)
	fmt.Printf("\nresults: %s\n", *outDir)
}

// rotate is the order of round k (from 0): each implementation takes each
// place in turn. On this shared machine the place mattered: in two 2-round
// A/B runs of one build against another, each build first in one of them
// (2026-12-06, bench/RESULTS.md), the second server of a round had the
// more polling deliveries in 3 rounds of 4, by up to 66%.
func rotate(order []string, k int) []string {
	k %= len(order)
	return append(append([]string(nil), order[k:]...), order[:k]...)
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}
