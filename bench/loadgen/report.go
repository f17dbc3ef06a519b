package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

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
