package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/handlers"
	"github.com/ordercast/ordercast/internal/testenv"
	"github.com/ordercast/ordercast/metrics"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/public"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
	"github.com/ordercast/ordercast/store"
)

const apiKey = "test-api-key-0123456789"

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no route listing on stdout
	os.Exit(m.Run())
}

// server is the real router, hub, Socket.IO server and SQLite store,
// wired as main.go wires them, on an httptest server.
type server struct {
	url   string
	stats *rooms.Reporter
	store *store.SQLite
	staff string // a support token
}

func startServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ordercast.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sio := sockets.New(sockets.Config{
		Transports: []string{"polling", "websocket"}, MaxMessageBytes: 1 << 20,
		ConnectTimeout: 5 * time.Second, RecoveryWindow: 2 * time.Minute,
	})
	m := metrics.New()
	streams := rooms.NewStreams()
	stats := rooms.NewReporter(sio, sio, log)
	hub := rooms.NewHub(sio, streams, st, log, m, stats)
	m.Watch(sio.IO, sio, streams.Len, handlers.IsClientEvent)
	signer := auth.NewSigner([]byte("test-secret-0123456789abcdef"), nil)
	router := handlers.New(handlers.Config{MaxMessageBytes: 1 << 20}, handlers.Deps{
		Store: m.Store(st), Publisher: hub, Streams: streams, Signer: signer, APIKey: auth.NewAPIKey(apiKey), Log: log,
		Checks: []handlers.Check{{Name: "store", Fn: m.Check(metrics.DepStore, st.Ping)}},
		Acks:   m, Socket: sio, Public: public.Files, Metrics: m.Handler(), Observe: m.HTTP,
	})
	router.Attach(sio.IO, sio, m.Handshakes)
	ts := httptest.NewServer(router)
	t.Cleanup(func() { sio.Close(); ts.Close() })
	staff, err := signer.Issue("Sam", auth.RoleSupport, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &server{url: ts.URL, stats: stats, store: st, staff: staff}
}

// series is a scrape flattened to "name{label="value",...}" -> value, the
// labels sorted; a histogram gives its _count and _sum.
type series map[string]float64

func scrape(t *testing.T, url string) series {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := series{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			key := func(suffix string) string { return seriesKey(name+suffix, m.GetLabel()) }
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key("")] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key("")] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[key("")] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key("_count")] = float64(m.GetHistogram().GetSampleCount())
				out[key("_sum")] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func seriesKey(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// mismatches compares want with the deltas (or, for gauges, the values) of
// after; it returns one line per difference.
func mismatches(before, after series, deltas, gauges map[string]float64) []string {
	var out []string
	for k, want := range deltas {
		if got := after[k] - before[k]; got != want {
			out = append(out, fmt.Sprintf("%s moved by %v, want %v", k, got, want))
		}
	}
	for k, want := range gauges {
		got, ok := after[k]
		if !ok || got != want {
			out = append(out, fmt.Sprintf("%s = %v (present %v), want %v", k, got, ok, want))
		}
	}
	slices.Sort(out)
	return out
}

// expectScrape scrapes until the figures match (the server counts a
// request after answering it, so the very last one may lag), failing with
// the differences after a deadline. Over-counts never match, so they fail.
// GET /metrics itself is not asserted: each try counts.
func expectScrape(t *testing.T, url string, before series, deltas, gauges map[string]float64) series {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := scrape(t, url)
		diff := mismatches(before, s, deltas, gauges)
		if len(diff) == 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics differ:\n  %s", strings.Join(diff, "\n  "))
		}
		time.Sleep(20 * time.Millisecond) // poll interval of a deadline wait
	}
}

// sessionScript is e2e/metrics-session.mjs, which drives the session with
// the stock socket.io-client; it also exports the expected figures.
func sessionScript(t *testing.T) (node, script string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script = filepath.Join(root, "e2e", "metrics-session.mjs")
	node, err = exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(root, "node_modules", "socket.io-client", "package.json"))
	}
	testenv.Require(t, err, "needs node and socket.io-client (run npm ci)")
	return node, script
}

// TestScriptedSession runs the scripted session against the in-process
// server and asserts, with the Prometheus text parser, that every counter
// moved by exactly the session's amount and that the gauges follow it.
func TestScriptedSession(t *testing.T) {
	node, script := sessionScript(t)
	srv := startServer(t)
	before := scrape(t, srv.url)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	// B on websocket too: the script exits right after end() disconnects,
	// before a polling client's last POST is sent, and the figures it
	// expects are written for WebSocket (e2e/metrics.test.mjs covers
	// polling).
	cmd.Env = append(os.Environ(), "OC_SESSION_CLI=1", "OC_URL="+srv.url, "OC_API_KEY="+apiKey,
		"OC_STAFF_TOKEN="+srv.staff, "OC_B_TRANSPORT=websocket")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	var msg struct {
		Ready, Done bool
		Error       string
		// The session's own tables, so Go and Node assert the same numbers.
		Expected struct{ Counters, Live, After, End map[string]float64 }
	}
	next := func(want string) {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("session script ended before %q: %v", want, lines.Err())
		}
		if err := json.Unmarshal(lines.Bytes(), &msg); err != nil || msg.Error != "" ||
			(want == "ready" && !msg.Ready) || (want == "done" && !msg.Done) {
			t.Fatalf("session script said %s, want %q", lines.Text(), want)
		}
	}

	next("ready")
	want := msg.Expected
	if len(want.Counters) == 0 || len(want.Live) == 0 {
		t.Fatalf("session script gave no expected figures: %s", lines.Text())
	}
	live := expectScrape(t, srv.url, before, want.Counters, want.Live)
	if got := live[`ordercast_http_requests_total{method="GET",route="/socket.io/*any",status="200"}`] +
		live[`ordercast_http_requests_total{method="GET",route="/socket.io/*any",status="101"}`]; got < 3 {
		t.Errorf("socket.io requests counted: %v, want at least the three handshakes", got)
	}
	for k, v := range live {
		if strings.HasPrefix(k, "ordercast_store_errors_total") && v != 0 {
			t.Errorf("%s = %v during a healthy session", k, v)
		}
	}

	// The stats event's local figures agree with the gauges: 3 sockets,
	// rooms order + support, and 5 events broadcast (4 statuses and the
	// message) in the window.
	st := srv.stats.LocalStats(time.Second)
	if st.Connections != (rooms.Connections{WebSocket: 3}) || st.Rooms != 2 || st.EventsPerSecond != 5 || st.Nodes != 1 {
		t.Errorf("LocalStats = %+v, want websocket 3, polling 0, rooms 2, eventsPerSecond 5, nodes 1", st)
	}
	if st.BroadcastLatencyMs.P50 <= 0 || st.BroadcastLatencyMs.P99 < st.BroadcastLatencyMs.P50 {
		t.Errorf("broadcast latency %+v: want 0 < p50 <= p99", st.BroadcastLatencyMs)
	}

	if _, err := io.WriteString(stdin, "end\n"); err != nil {
		t.Fatal(err)
	}
	next("done")
	expectScrape(t, srv.url, live, want.End, want.After)
}

// TestStoreErrors: answers about the request are not store errors; a
// store that fails counts by operation, readiness turns 503 naming it, and
// its failed pings count too.
func TestStoreErrors(t *testing.T) {
	srv := startServer(t)
	do := func(method, path, auth, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.url+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	before := scrape(t, srv.url)

	// Not found, duplicate id, refused transition, bad cursor: the store
	// answered; nothing is counted.
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/orders/nope", "", http.StatusNotFound},
		{"POST", "/api/orders", `{"id":"dup","customer":"A","items":[{"name":"x","qty":1}],"total":1}`, http.StatusCreated},
		{"POST", "/api/orders", `{"id":"dup","customer":"A","items":[{"name":"x","qty":1}],"total":1}`, http.StatusConflict},
		{"POST", "/api/orders/dup/status", `{"status":"delivered"}`, http.StatusConflict},
		{"POST", "/api/orders/nope/status", `{"status":"confirmed"}`, http.StatusNotFound},
		{"GET", "/api/orders?before=garbage", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.path, apiKey, tt.body); got != tt.want {
			t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
	healthy := scrape(t, srv.url)
	for k, v := range healthy {
		if strings.HasPrefix(k, "ordercast_store_errors_total") && v != before[k] {
			t.Errorf("%s moved to %v on answers that are not store failures", k, v)
		}
	}

	// The store goes away.
	if err := srv.store.Close(); err != nil {
		t.Fatal(err)
	}
	if got := do("GET", "/api/orders/dup", apiKey, ""); got != http.StatusInternalServerError {
		t.Fatalf("GET order on a closed store = %d, want 500", got)
	}
	res, err := http.Get(srv.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	err = json.NewDecoder(res.Body).Decode(&ready)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusServiceUnavailable || ready.Status != "unready" || ready.Checks["store"] == "ok" || ready.Checks["store"] == "" {
		t.Fatalf("readyz on a closed store: %d %+v (%v), want 503 naming the store", res.StatusCode, ready, err)
	}
	expectScrape(t, srv.url, healthy, map[string]float64{
		`ordercast_store_errors_total{op="get_order"}`:                                     1,
		`ordercast_store_errors_total{op="ping"}`:                                          1,
		`ordercast_http_requests_total{method="GET",route="/api/orders/:id",status="500"}`: 1,
		`ordercast_http_requests_total{method="GET",route="/readyz",status="503"}`:         1,
	}, nil)
}

// TestMux: pprof only with the flag, and never the command line (secrets).
func TestMux(t *testing.T) {
	m := metrics.New()
	tests := []struct {
		pprof bool
		path  string
		want  int
	}{
		{false, "/metrics", http.StatusOK},
		{false, "/debug/pprof/", http.StatusNotFound},
		{false, "/debug/pprof/heap", http.StatusNotFound},
		{true, "/metrics", http.StatusOK},
		{true, "/debug/pprof/", http.StatusOK},
		{true, "/debug/pprof/goroutine?debug=1", http.StatusOK},
		{true, "/debug/pprof/cmdline", http.StatusNotFound},
		{true, "/", http.StatusNotFound},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		m.Mux(tt.pprof).ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("pprof=%v GET %s = %d, want %d", tt.pprof, tt.path, rec.Code, tt.want)
		}
	}
}

// TestStoreDecoratorPassesThrough: the decorator returns what the store
// returns (a build error included) and only counts failures.
func TestStoreDecoratorPassesThrough(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := metrics.New()
	s := m.Store(st)
	ctx := context.Background()
	now := time.Now().UTC()
	o := orders.Order{ID: "o1", Customer: "A", Items: []orders.Item{{Name: "x", Qty: 1}}, Total: 1, Currency: "EUR", Status: orders.Placed, CreatedAt: now, UpdatedAt: now, LastSeq: 1}
	if _, _, err := s.CreateOrder(ctx, o, []byte("h"), orders.Event{OrderID: "o1", Seq: 1, Type: orders.TypeStatus, Status: orders.Placed, By: "service", At: now}); err != nil {
		t.Fatal(err)
	}
	// placed -> delivered: the domain refuses it, which is an answer.
	if _, _, err := s.Append(ctx, "o1", orders.ChangeStatus{To: orders.Delivered, By: "test"}); !errors.Is(err, orders.ErrInvalidTransition) {
		t.Fatalf("Append of a refused transition = %v, want ErrInvalidTransition", err)
	}
	got, err := s.GetOrder(ctx, "o1")
	if err != nil || got.ID != "o1" {
		t.Fatalf("GetOrder = %+v, %v", got, err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "ordercast_store_errors_total{") {
		t.Fatalf("store errors counted for a healthy store:\n%s", rec.Body.String())
	}
}
