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
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		scale      = flag.String("scale", "full", "full or small")
		rounds     = flag.Int("rounds", 3, "rounds; each runs every scenario on both servers, alternately")
		only       = flag.String("scenarios", "1,2,3,4,5", "scenarios to run")
		impls      = flag.String("impls", "ordercast,node", "implementations, in the order of each round")
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
		fmt.Printf("\n## round %d of %d\n", round, *rounds)
		for _, s := range []string{"1", "2", "3", "4", "5"} {
			if !want[s] {
				continue
			}
			for _, impl := range order {
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
			for _, impl := range order {
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

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func header(w io.Writer, sz sizes, scale string, rounds int, pinned, unpinned string, env []string) {
	fmt.Fprintf(w, "# ordercast vs Node socket.io — %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s, %d CPUs, %s memory, kernel %s\n", cpuModel(), numCPU(), memTotal(), kernel())
	version := os.Getenv("ORDERCAST_VERSION") // when the binary is not built from this tree
	if version == "" {
		version = cmdOut("git", "describe", "--always", "--dirty")
	}
	fmt.Fprintf(w, "versions: ordercast %s (%s); %s; node %s; socket.io %s\n", version,
		runtime.Version(), goModVersion("zishang520/socket.io/v3 "), cmdOut("node", "--version"), npmVersion("socket.io"))
	fmt.Fprintf(w, "scale %s, %d rounds, server CPUs %q (unpinned %q), loadgen CPUs %q, ordercast env %q, ulimit -n %d\n",
		scale, rounds, pinned, unpinned, affinity(), env, nofile())
	b, _ := json.Marshal(sz)
	fmt.Fprintf(w, "sizes: %s\n", b)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "\nprocessor") + 1
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	l, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(l)
	if len(f) < 2 {
		return "?"
	}
	kb, _ := strconv.ParseFloat(f[1], 64)
	return strconv.FormatFloat(kb/(1<<20), 'f', 1, 64) + " GiB"
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func affinity() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Cpus_allowed_list:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "Cpus_allowed_list:"))
		}
	}
	return "?"
}

func nofile() uint64 {
	var rl syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

func goModVersion(pkg string) string {
	b, _ := os.ReadFile("go.mod")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, pkg) {
			return strings.Join(strings.Fields(l)[:2], " ")
		}
	}
	return pkg + "?"
}

func npmVersion(pkg string) string {
	b, err := os.ReadFile(filepath.Join("node_modules", pkg, "package.json"))
	if err != nil {
		return "?"
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Version
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// ---- tables ----------------------------------------------------------------

// higherBetter says which way a figure is good; informational figures
// (loads, counts) say neither.
func direction(metric string) string {
	switch {
	case metric == "server_cpu_pct" || metric == "loadgen_cpu_pct" || metric == "offered_per_s" || metric == "rss_idle_mb":
		return "info"
	case metric == "missing" || metric == "skipped" || metric == "connect_retries":
		return "lower"
	case strings.HasSuffix(metric, "_per_s") || strings.HasPrefix(metric, "max_rate"):
		return "higher"
	}
	return "lower"
}

func printRow(w io.Writer, r result) {
	if r.Error != "" {
		fmt.Fprintf(w, "  %-10s %-10s %-9s cpus=%-4s round %d  ERROR %s\n", r.Scenario, r.Param, r.Impl, r.CPUs, r.Round, r.Error)
		return
	}
	keys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s=%s", k, num(r.Metrics[k]))
	}
	fmt.Fprintf(w, "  %-10s %-10s %-9s cpus=%-4s round %d %s\n", r.Scenario, r.Param, r.Impl, r.CPUs, r.Round, sb.String())
}

func num(v float64) string {
	switch {
	case v != v:
		return "n/a"
	case v == 0:
		return "0"
	case v >= 1000 || v <= -1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

type key struct{ scenario, param, cpus, metric string }

// summary prints the median of the rounds per figure and the ratio of the
// first implementation to the second.
func summary(w io.Writer, all []result, impls []string) {
	vals := map[key]map[string][]float64{}
	var keys []key
	errs := map[string]int{}
	for _, r := range all {
		if r.Error != "" {
			errs[r.Impl+" "+r.Scenario+" "+r.Param]++
			continue
		}
		for m, v := range r.Metrics {
			k := key{r.Scenario, r.Param, r.CPUs, m}
			if vals[k] == nil {
				vals[k] = map[string][]float64{}
				keys = append(keys, k)
			}
			vals[k][r.Impl] = append(vals[k][r.Impl], v)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return strings.Compare(a.scenario+"\x00"+pad(a.param)+"\x00"+a.cpus+"\x00"+a.metric,
			b.scenario+"\x00"+pad(b.param)+"\x00"+b.cpus+"\x00"+b.metric)
	})
	// Ratios are to the last implementation (the reference, Node).
	ref := impls[len(impls)-1]
	fmt.Fprintf(w, "\n## Summary: median of rounds; ratios to %s\n\n| scenario | param | server CPUs | figure |", ref)
	for _, im := range impls {
		fmt.Fprintf(w, " %s |", im)
	}
	for _, im := range impls[:len(impls)-1] {
		fmt.Fprintf(w, " %s/%s |", im, ref)
	}
	fmt.Fprintf(w, " better |\n|---|---|---|---|%s\n", strings.Repeat("---:|", 2*len(impls)-1)+"---|")
	for _, k := range keys {
		fmt.Fprintf(w, "| %s | %s | %s | %s |", k.scenario, k.param, k.cpus, k.metric)
		for _, im := range impls {
			fmt.Fprintf(w, " %s |", num(median(vals[k][im])))
		}
		vr := median(vals[k][ref])
		for _, im := range impls[:len(impls)-1] {
			ratio := median(vals[k][im]) / vr
			if vr == 0 || vr != vr {
				ratio = nan()
			}
			fmt.Fprintf(w, " %s |", ratioStr(ratio))
		}
		fmt.Fprintf(w, " %s |\n", direction(k.metric))
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "\nErrors (runs not counted):\n")
		for k, n := range errs {
			fmt.Fprintf(w, "- %s: %d\n", k, n)
		}
	}
}

func ratioStr(r float64) string {
	if r != r {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "x"
}

// pad sorts "n=1000" before "n=10000" and "rate=250" before "rate=1000".
func pad(p string) string {
	k, v, ok := strings.Cut(p, "=")
	if n, err := strconv.Atoi(v); ok && err == nil {
		return fmt.Sprintf("%s=%012d", k, n)
	}
	return p
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return nan()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func nan() float64 { return math.NaN() }
