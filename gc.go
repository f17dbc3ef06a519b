package main

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultGCPercent is used when GOGC is not set. Measured in bench/RESULTS.md:
// GOGC=400 cut server CPU per fan-out delivery by 9-21% against the default
// 100, for ~13% more RSS per idle connection; marking the library's large
// per-connection heap is most of what a lower value costs.
const defaultGCPercent = 400

// gcPlan is what tuneGC changes; a zero field leaves the runtime's setting.
type gcPlan struct {
	percent int   // 0: GOGC is set in the environment
	limit   int64 // 0: no --memory-limit, or GOMEMLIMIT is set
}

// planGC decides the GC settings. The environment (GOGC, GOMEMLIMIT) wins
// over ordercast's defaults, so the runtime's own knobs keep working.
func planGC(memoryLimit int64, lookupEnv func(string) (string, bool)) gcPlan {
	var p gcPlan
	if _, ok := lookupEnv("GOGC"); !ok {
		p.percent = defaultGCPercent
	}
	if _, ok := lookupEnv("GOMEMLIMIT"); !ok && memoryLimit > 0 {
		p.limit = memoryLimit
	}
	return p
}

// tuneGC applies planGC's settings to the runtime and logs them.
func tuneGC(memoryLimit int64, lookupEnv func(string) (string, bool), log *slog.Logger) {
	p := planGC(memoryLimit, lookupEnv)
	if p.percent > 0 {
		debug.SetGCPercent(p.percent)
	}
	if p.limit > 0 {
		debug.SetMemoryLimit(p.limit)
	}
	log.Debug("gc settings", "gc_percent_default_applied", p.percent, "memory_limit_applied", p.limit)
}

// parseBytes reads a byte count: a plain number or one with a B, KiB, MiB,
// GiB or TiB suffix, as GOMEMLIMIT accepts.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("byte count %q: %w", s, err)
	}
	if n < 0 || n > (1<<63-1)/mult {
		return 0, fmt.Errorf("byte count %q: out of range", s)
	}
	return n * mult, nil
}
