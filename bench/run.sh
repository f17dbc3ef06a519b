#!/usr/bin/env bash
# Benchmark ordercast against the Node.js socket.io reference server.
#
#   bench/run.sh                     full run (10k/19k clients, 3 rounds), ~25 min
#   BENCH_SCALE=small bench/run.sh   smoke run (a few hundred clients, 1 round)
#
# Environment:
#   BENCH_SCALE      full (default) or small
#   BENCH_ROUNDS     rounds (default 3 full, 1 small); each round runs every
#                    scenario on each server, the order rotating from round
#                    to round (A B, B A, ...): use an even number for A/B
#   BENCH_SCENARIOS  subset, e.g. 2,3 (default 1,2,3,4,5)
#   BENCH_OUT        output directory (default bench/results/<UTC time>)
#   ORDERCAST_BIN    binary to test (default ./ordercast, built by make bench)
#   ORDERCAST_ENV    extra environment for ordercast, e.g. "GOGC=400"
#   BENCH_PROFILE    directory for ordercast pprof profiles (CPU and allocations of
#                    scenarios 2 and 3, heap and goroutines of scenario 1).
#                    Collecting them costs ordercast alone (its p99 at low
#                    rates nearly doubled): take ratios from a run without it
#   BENCH_ALT_ENV    also run the same ordercast with this environment as "alt",
#                    e.g. "GOGC=400"; BENCH_ALT_SCENARIOS limits it (e.g. 1,2)
#   BENCH_ALT_BIN    run another binary as "alt" (e.g. an older build)
#   SERVER_CPUS      CPUs of the pinned server (default 0); LOADGEN_CPUS (default 1)
#   UNPINNED_CPUS    CPUs of the server in the unpinned fan-out runs (default 0,1; empty skips)
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${BENCH_SCALE:-full}
rounds=${BENCH_ROUNDS:-}
if [[ -z $rounds ]]; then
	if [[ $scale == small ]]; then rounds=1; else rounds=3; fi
fi
out=${BENCH_OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$scale}
mkdir -p "$out"

# 19,000 clients need 19,000 descriptors in the load generator and as many
# in the server; Go restores the soft limit for children, so raise it here.
ulimit -n "$(ulimit -Hn)"

for tool in taskset node go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
[[ -d node_modules/socket.io ]] || { echo "run.sh: node_modules/socket.io missing: run make deps" >&2; exit 1; }

go build -o "$out/loadgen" ./bench/loadgen
extra=()
if [[ -n ${BENCH_PROFILE:-} ]]; then
	mkdir -p "$BENCH_PROFILE"
	extra+=(-profile "$BENCH_PROFILE")
fi
if [[ -n ${BENCH_ALT_ENV:-} || -n ${BENCH_ALT_BIN:-} ]]; then
	extra+=(-impls ordercast,alt,node -alt "${BENCH_ALT_BIN:-${ORDERCAST_BIN:-./ordercast}}" -alt-env "${BENCH_ALT_ENV:-}"
		-alt-scenarios "${BENCH_ALT_SCENARIOS:-}")
fi

exec taskset -c "${LOADGEN_CPUS:-1}" "$out/loadgen" \
	-scale "$scale" -rounds "$rounds" \
	-scenarios "${BENCH_SCENARIOS:-1,2,3,4,5}" \
	-ordercast "${ORDERCAST_BIN:-./ordercast}" \
	-ordercast-env "${ORDERCAST_ENV:-}" \
	-server-cpus "${SERVER_CPUS:-0}" \
	-unpinned-cpus "${UNPINNED_CPUS-0,1}" \
	-out "$out" "${extra[@]}" "$@"
