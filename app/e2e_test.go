package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/clients/engine/v3/transports"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The whole app in process, as in dunglas/mercure's e2e_test.go: the real
// SQLite store, an httptest server on the app's handler, and the
// library's own Go Socket.IO client (written by someone else than
// ordercast's handlers: an interop check too). It covers the main path:
// create, subscribe, status, message, reconnect with since.

const testKey = "e2e-api-key"

func newTestApp(t *testing.T, delay time.Duration) (*App, *httptest.Server) {
	t.Helper()
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), APIKey: testKey, Secret: "e2e-secret-0123456789abcdef",
		RedisPrefix: "socket.io", MaxMessageBytes: 1 << 20, Transports: []string{"polling", "websocket"},
		ConnectTimeout: 5 * time.Second, ShutdownTimeout: 5 * time.Second, ShutdownDelay: delay,
		SocketRate: 50, SocketBurst: 100,
	}
	a, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		srv.Close()
	})
	return a, srv
}

// call makes one API request with the API key and decodes the answer.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// dial connects the library's Go client over WebSocket.
func dial(t *testing.T, srv *httptest.Server) *client.Socket {
	t.Helper()
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet[transports.TransportCtor](transports.WebSocket))
	opts.SetForceNew(true)
	opts.SetReconnection(false)
	// The manager is opened first and the socket connected on the open
	// connection. client.Connect does both at once, and its socket then
	// sends CONNECT twice when the manager opens between its subscription
	// to "open" and its check of the manager's state (a race in the
	// library's Go client, clients/socket/v3 socket.go Connect; the JS
	// client runs on one thread and cannot). The server, as Node's,
	// closes a connection that sends CONNECT for a namespace it already
	// joined: this test failed so, a few runs in a hundred under load.
	opts.SetAutoConnect(false)
	s := openManager(t, srv.URL, opts).Socket("/", opts)
	connected := make(chan struct{}, 1)
	_ = s.Once("connect", func(...any) { connected <- struct{}{} })
	s.Connect()
	if s.Connected() {
		select {
		case connected <- struct{}{}:
		default:
		}
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the Go client did not connect within 10 s")
	}
	t.Cleanup(func() { s.Disconnect() })
	return s
}

// openManager opens a manager of the library's Go client. Its Open
// subscribes to the engine's "open" after the engine started connecting
// (clients/socket/v3 manager.go Open), so an engine that opens at once
// can open unheard: the manager then never opens. Seen a few times in a
// hundred under load; a manager that has not opened within 3 s is closed
// and opened again.
func openManager(t *testing.T, url string, opts *client.Options) *client.Manager {
	t.Helper()
	for attempt := 1; ; attempt++ {
		m := client.NewManager(url, opts)
		opened := make(chan error, 1)
		m.Open(func(err error) {
			select {
			case opened <- err:
			default:
			}
		})
		select {
		case err := <-opened:
			if err != nil {
				t.Fatal(err)
			}
			return m
		case <-time.After(3 * time.Second):
		}
		state := m.Engine().ReadyState()
		m.Engine().Close()
		if attempt == 3 {
			t.Fatalf("the Go client's manager did not open in 3 tries (its engine: %s)", state)
		}
		t.Logf("the Go client's manager did not open within 3 s (its engine: %s); again", state)
	}
}

// ack emits event with payload and waits for its ack, with a deadline.
func ack(t *testing.T, s *client.Socket, event string, payload any) map[string]any {
	t.Helper()
	got := make(chan map[string]any, 1)
	s.Timeout(5*time.Second).EmitWithAck(event, payload)(func(args []any, err error) {
		if err != nil || len(args) == 0 {
			got <- map[string]any{"transport_error": err}
			return
		}
		m, _ := args[0].(map[string]any)
		got <- m
	})
	select {
	case m := <-got:
		if err, failed := m["transport_error"]; failed {
			// Seen under heavy load only (go test -race of every package
			// on two CPUs, plus other test processes), in builds before
			// and after this check: the library's Go client dropped its
			// connection. Said as such, not as a wrong answer.
			t.Fatalf("%s: no ack, the library's Go client lost its connection: %v", event, err)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("no ack for %s", event)
		return nil
	}
}

// events collects one event name's payloads.
func events(s *client.Socket, name string) chan map[string]any {
	ch := make(chan map[string]any, 64)
	_ = s.On(types.EventName(name), func(args ...any) {
		if len(args) > 0 {
			if m, ok := args[0].(map[string]any); ok {
				ch <- m
			}
		}
	})
	return ch
}

func next(t *testing.T, ch chan map[string]any, what string) map[string]any {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
		return nil
	}
}

func seqs(t *testing.T, evs any) []float64 {
	t.Helper()
	list, _ := evs.([]any)
	var out []float64
	for _, e := range list {
		out = append(out, e.(map[string]any)["seq"].(float64))
	}
	return out
}

func TestMainPath(t *testing.T) {
	_, srv := newTestApp(t, 0)

	status, created := call(t, srv, "POST", "/api/orders", `{"id":"E-1","customer":"Ada","items":[{"name":"Tea","qty":2}],"total":1250}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, created)
	}
	token := created["trackingToken"].(string)

	s := dial(t, srv)
	statuses, messages := events(s, "order:status"), events(s, "order:message")
	sub := ack(t, s, "order:subscribe", map[string]any{"orderId": "E-1", "token": token})
	if sub["ok"] != true || len(seqs(t, sub["events"])) != 1 {
		t.Fatalf("subscribe: %v", sub)
	}

	if status, body := call(t, srv, "POST", "/api/orders/E-1/status", `{"status":"confirmed","note":"packing"}`); status != http.StatusOK {
		t.Fatalf("status: %d %v", status, body)
	}
	if e := next(t, statuses, "order:status"); e["seq"] != 2.0 || e["status"] != "confirmed" || e["by"] != "service" {
		t.Fatalf("live status: %v", e)
	}

	msg := ack(t, s, "order:message", map[string]any{"orderId": "E-1", "text": "Where is my tea?"})
	if msg["ok"] != true {
		t.Fatalf("message ack: %v", msg)
	}
	if e := next(t, messages, "order:message"); e["seq"] != 3.0 || e["from"] != "customer" || e["author"] != "Ada" {
		t.Fatalf("live message: %v", e)
	}

	// Gone while the order moves on; back with since, it gets exactly that.
	s.Disconnect()
	if status, _ := call(t, srv, "POST", "/api/orders/E-1/status", `{"status":"packed"}`); status != http.StatusOK {
		t.Fatalf("status while away: %d", status)
	}
	again := dial(t, srv)
	resub := ack(t, again, "order:subscribe", map[string]any{"orderId": "E-1", "token": token, "since": 3})
	if got := seqs(t, resub["events"]); len(got) != 1 || got[0] != 4 {
		t.Fatalf("resubscribe with since 3: events %v, want [4]", got)
	}

	// Bad input gets the contract's answers, and the socket stays.
	for _, tt := range []struct {
		event   string
		payload any
	}{
		{"order:subscribe", map[string]any{"orderId": "E-1", "token": token, "sinse": 1}}, // unknown field
		{"order:teleport", map[string]any{"orderId": "E-1"}},                              // unknown event
		{"order:message", "not an object"},
	} {
		got := ack(t, again, tt.event, tt.payload)
		errObj, _ := got["error"].(map[string]any)
		if got["ok"] != false || errObj["code"] != "bad_request" {
			t.Fatalf("%s %v: ack %v, want bad_request", tt.event, tt.payload, got)
		}
	}
	if !again.Connected() {
		t.Fatal("bad input dropped the connection")
	}
}

// The drain: from the start of the shutdown, /readyz answers 503 for
// --shutdown-delay while everything else is still served.
func TestShutdownDrains(t *testing.T) {
	a, srv := newTestApp(t, 500*time.Millisecond)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- a.Shutdown(context.Background()) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		res, err := srv.Client().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 503 during the drain")
		}
	}
	if status, body := call(t, srv, "POST", "/api/orders", `{"customer":"Drain","items":[{"name":"Tea","qty":1}],"total":1}`); status != http.StatusCreated {
		t.Fatalf("during the drain, the API answered %d %v, want 201", status, body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("shutdown took %v, less than the 500 ms drain", d)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatalf("a second Shutdown: %v", err)
	}
}

// Run serves until its context ends, then shuts down and returns nil: what
// SIGTERM does to the process (exit code 0).
func TestRunStopsCleanly(t *testing.T) {
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), APIKey: testKey, Secret: "e2e-secret-0123456789abcdef",
		RedisPrefix: "socket.io", MaxMessageBytes: 1 << 20, Transports: []string{"websocket"},
		ConnectTimeout: 5 * time.Second, ShutdownTimeout: 5 * time.Second, ShutdownDelay: 50 * time.Millisecond,
		SocketRate: 50, SocketBurst: 100,
	}
	a, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, io.Discard) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		res, err := http.Get("http://" + a.Addr() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 5 s: %v", err)
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after its context ended: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of its context ending")
	}
}
