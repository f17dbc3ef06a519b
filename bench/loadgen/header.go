package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
