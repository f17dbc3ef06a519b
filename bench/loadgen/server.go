package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	benchAPIKey = "bench-api-key-3f9c2a7e51d04b8a"
	benchSecret = "bench-signing-secret-8d1e6b0c4a2f47e9b5c3"
)

// serverSpec says how to start one implementation.
type serverSpec struct {
	impl      string // "ordercast" or "node"
	cpus      string // taskset list: "0" pinned, "0,1" unpinned
	ordercast string // binary
	node      string // node binary
	reference string // server.mjs
	env       []string
	dataRoot  string
	logDir    string
	pprof     bool
}

type serverProc struct {
	impl        string
	cmd         *exec.Cmd
	pid         int
	addr        string
	metricsAddr string
	dataDir     string
	log         *os.File
	exited      chan struct{}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts the server under taskset and waits for /readyz.
func startServer(ctx context.Context, sp serverSpec, tag string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &serverProc{impl: sp.impl, addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	s.dataDir, err = os.MkdirTemp(sp.dataRoot, "bench-"+sp.impl+"-")
	if err != nil {
		return nil, err
	}
	common := []string{"--addr", s.addr, "--data-dir", s.dataDir, "--api-key", benchAPIKey, "--secret", benchSecret,
		"--transports", "polling,websocket", "--recovery-window", "0", "--socket-rate", "1000", "--socket-burst", "1000"}
	var args []string
	switch sp.impl {
	case "ordercast":
		args = append([]string{"-c", sp.cpus, sp.ordercast, "serve"}, common...)
		args = append(args, "--log-level", "warn")
		if sp.pprof {
			mp, err := freePort()
			if err != nil {
				return nil, err
			}
			s.metricsAddr = fmt.Sprintf("127.0.0.1:%d", mp)
			args = append(args, "--pprof", "--metrics-addr", s.metricsAddr)
		}
	case "node":
		args = append([]string{"-c", sp.cpus, sp.node, sp.reference}, common...)
	default:
		return nil, fmt.Errorf("unknown implementation %q", sp.impl)
	}
	s.log, err = os.Create(filepath.Join(sp.logDir, tag+".log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command("taskset", args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.Env = append(os.Environ(), sp.env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = s.cmd.Process.Pid
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx, 30*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s not ready: %w (log %s)", sp.impl, err, s.log.Name())
	}
	return s, nil
}

// waitReady probes /readyz until it answers 200 (a bounded readiness
// probe, not a sleep standing in for synchronisation).
func (s *serverProc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/readyz", nil)
		if res, err := apiHTTP.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return errors.New("server exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
	}
}

func (s *serverProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	_ = s.log.Close()
	_ = os.RemoveAll(s.dataDir)
}

// rss is the server's resident set in bytes.
func (s *serverProc) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// cpu is the server's user+system CPU time so far.
func (s *serverProc) cpu() time.Duration {
	return procCPU(s.pid)
}

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields overall, in clock ticks (100 Hz on Linux).
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// goroutines reads the goroutine count from pprof, or -1 when the server
// has no pprof listener (Node, or an ordercast without --pprof wired).
func (s *serverProc) goroutines() int {
	if s.metricsAddr == "" {
		return -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.metricsAddr+"/debug/pprof/goroutine?debug=1", nil)
	res, err := apiHTTP.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || res.StatusCode != http.StatusOK {
		return -1
	}
	// "goroutine profile: total 123"
	f := strings.Fields(line)
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		return -1
	}
	return n
}

// memStats reads runtime.MemStats from the heap profile's text form, after
// a forced GC, so HeapInuse is the live heap (ordercast with pprof only).
func (s *serverProc) memStats() map[string]int64 {
	out := map[string]int64{}
	if s.metricsAddr == "" {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.metricsAddr+"/debug/pprof/heap?debug=1&gc=1", nil)
	res, err := apiHTTP.Do(req)
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// "# HeapInuse = 1234", "# Stack = 1234 / 5678" (StackInuse / StackSys)
		f := strings.Fields(sc.Text())
		if len(f) == 6 && f[0] == "#" && f[1] == "Stack" && f[2] == "=" {
			f = []string{"#", "StackInuse", "=", f[3]}
		}
		if len(f) == 4 && f[0] == "#" && f[2] == "=" {
			if v, err := strconv.ParseInt(f[3], 10, 64); err == nil {
				out[f[1]] = v
			}
		}
	}
	return out
}

// ---- the HTTP API ------------------------------------------------------

// idleBeforeServerCloses is below the shortest keep-alive timeout of the
// servers measured (Node's 5 s).
const idleBeforeServerCloses = 4 * time.Second

// apiHTTP drops a connection idle for 4 s: Node's server closes one after
// 5 s (keepAliveTimeout), and a POST sent on it as it closes fails with
// "connection reset by peer" (it is not retried: not idempotent). That
// lost a Node round of the fan-out on 2026-12-06.
var apiHTTP = &http.Client{Transport: &http.Transport{
	MaxIdleConns:        1024,
	MaxIdleConnsPerHost: 1024,
	IdleConnTimeout:     idleBeforeServerCloses,
	DisableCompression:  true,
}, Timeout: 60 * time.Second}

// benchOrder is an order the benchmark created: its tracking token and the
// seq of its newest event.
type benchOrder struct {
	id    string
	token string
	seq   int
}

var lifecycle = []string{"placed", "confirmed", "packed", "shipped", "out_for_delivery", "delivered"}

func apiPost(ctx context.Context, addr, path string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchAPIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := apiHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("POST %s: %s: %s", path, res.Status, b)
	}
	return b, nil
}

// createOrders creates n orders named prefix0..prefixN-1, conc at a time.
func createOrders(ctx context.Context, addr, prefix string, n, conc int) ([]*benchOrder, error) {
	out := make([]*benchOrder, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	err := forEach(ctx, idx, conc, func(_ int, i int) error {
		id := fmt.Sprintf("%s%06d", prefix, i)
		body := fmt.Appendf(nil, `{"id":%q,"customer":"Bench Customer","items":[{"name":"Tea","qty":2}],"total":1250}`, id)
		b, err := apiPost(ctx, addr, "/api/orders", body, http.StatusCreated)
		if err != nil {
			return err
		}
		var r struct {
			TrackingToken string `json:"trackingToken"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		out[i] = &benchOrder{id: id, token: r.TrackingToken, seq: 1}
		return nil
	})
	return out, err
}

// advance moves the order one step along its lifecycle (seq+1).
func advance(ctx context.Context, addr string, o *benchOrder) error {
	if o.seq >= len(lifecycle) {
		return fmt.Errorf("order %s is already delivered", o.id)
	}
	body := []byte(`{"status":"` + lifecycle[o.seq] + `"}`)
	if _, err := apiPost(ctx, addr, "/api/orders/"+o.id+"/status", body, http.StatusOK); err != nil {
		return err
	}
	o.seq++
	return nil
}
