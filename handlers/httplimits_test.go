package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/websocket"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/internal/testenv"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
	"github.com/ordercast/ordercast/store"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

const (
	secAPIKey = "sec-test-api-key"
	secSecret = "sec-test-signing-secret"
)

// secServer is the real router over a real SQLite store and a real
// Socket.IO server, wired as main.go wires them (connection tracking
// included); now may be a fake clock.
type secServer struct {
	*httptest.Server
	router http.Handler
	signer *auth.Signer
	r      *Router
}

func newSecServer(tb testing.TB, cfg Config, now func() time.Time) *secServer {
	tb.Helper()
	return newSecServerWith(tb, cfg, now, nil)
}

// newSecServerWith is newSecServer with beforeTrack run on the Socket.IO
// server before TrackConnections.
func newSecServerWith(tb testing.TB, cfg Config, now func() time.Time, beforeTrack func(*sockets.Server)) *secServer {
	tb.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "sec.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	sio := sockets.New(sockets.Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: cfg.MaxMessageBytes,
		ConnectTimeout: 5 * time.Second})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	signer := auth.NewSigner([]byte(secSecret), now)
	gin.SetMode(gin.TestMode)
	pages := fstest.MapFS{"track.html": {Data: []byte("t")}, "support.html": {Data: []byte("s")}, "admin.html": {Data: []byte("a")}}
	streams := rooms.NewStreams()
	r := New(cfg, Deps{Store: st, Publisher: rooms.NewHub(sio, streams, st, log), Streams: streams, Signer: signer,
		APIKey: auth.NewAPIKey(secAPIKey), Log: log, Now: now, Socket: sio, Public: pages})
	if beforeTrack != nil {
		beforeTrack(sio)
	}
	r.Attach(sio.IO, sio, nil)
	var router http.Handler = r
	if t, ok := tb.(*testing.T); ok { // not inside fuzz targets, where F.Errorf panics
		router = validateResponses(t, mustSpec(t), router)
	}
	srv := httptest.NewServer(router)
	tb.Cleanup(func() { srv.Close(); sio.Close() })
	return &secServer{Server: srv, router: router, signer: signer, r: r}
}

// serve runs one request through the router in-process.
func (s *secServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.router.ServeHTTP(rec, req)
	return rec
}

// errorCode returns the contract's error code of a JSON error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// The HTTP limit answers 429 rate_limited JSON, counts anonymous and
// customer requests and bad credentials, and never the shop backend or
// staff; X-Forwarded-For only counts from a trusted proxy.
func TestHTTPRateLimit(t *testing.T) {
	clock := testenv.NewClock()
	srv := newSecServer(t, Config{HTTPRatePerIP: 1, HTTPBurstPerIP: 3}, clock.Now)
	staff, err := srv.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, bearer, xff string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "198.51.100.9:4242"
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return srv.serve(req)
	}
	for i := range 3 {
		if rec := get("/healthz", "", ""); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	tests := []struct {
		name, path, bearer, xff string
		want                    int
	}{
		{"anonymous over the burst", "/healthz", "", "", http.StatusTooManyRequests},
		{"a customer's token in the query is still anonymous", "/api/orders/A?token=x", "", "", http.StatusTooManyRequests},
		{"a wrong API key is counted", "/api/orders", "wrong-key", "", http.StatusTooManyRequests},
		{"a spoofed X-Forwarded-For gains no fresh bucket", "/healthz", "", "203.0.113.50", http.StatusTooManyRequests},
		{"the API key is never limited", "/api/orders", secAPIKey, "", http.StatusOK},
		{"a staff token is never limited", "/api/orders", staff, "", http.StatusOK},
		{"Socket.IO has limits of its own", "/socket.io/?EIO=4&transport=polling", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		rec := get(tt.path, tt.bearer, tt.xff)
		if rec.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.want)
			continue
		}
		if tt.want == http.StatusTooManyRequests {
			if code := errorCode(rec.Body.Bytes()); code != CodeRateLimited {
				t.Errorf("%s: code %q, want rate_limited", tt.name, code)
			}
			if rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s: no Retry-After", tt.name)
			}
		}
	}
	clock.Advance(time.Second)
	if rec := get("/healthz", "", ""); rec.Code != http.StatusOK {
		t.Fatalf("after a second at 1/s: %d, want 200", rec.Code)
	}
}

func TestHTTPRateLimitTrustedProxy(t *testing.T) {
	clock := testenv.NewClock()
	srv := newSecServer(t, Config{HTTPRatePerIP: 1, HTTPBurstPerIP: 1, TrustedProxies: []string{"10.0.0.0/8"}}, clock.Now)
	get := func(remote, xff string) int {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		return srv.serve(req).Code
	}
	// Behind the proxy, each client has its own bucket.
	if get("10.1.1.1:1", "203.0.113.1") != 200 || get("10.1.1.1:1", "203.0.113.2") != 200 {
		t.Fatal("two clients behind a trusted proxy share a bucket")
	}
	if got := get("10.1.1.1:1", "203.0.113.1"); got != http.StatusTooManyRequests {
		t.Fatalf("client over its burst behind a trusted proxy: %d", got)
	}
	// Outside the trusted range, the header is ignored.
	if get("192.0.2.7:1", "203.0.113.3") != 200 {
		t.Fatal("first request from an untrusted peer refused")
	}
	if got := get("192.0.2.7:1", "203.0.113.4"); got != http.StatusTooManyRequests {
		t.Fatalf("untrusted peer rotating X-Forwarded-For: %d, want 429", got)
	}
}

// rawSocket is a minimal Engine.IO v4 / Socket.IO v5 client over a raw
// WebSocket, so tests can send frames no real client would.
type rawSocket struct {
	ws *websocket.Conn
	mu sync.Mutex // one writer at a time: pongs, frames and probes
}

// dialRaw opens a WebSocket session and reads the Engine.IO open packet.
func dialRaw(url string, header http.Header) (*rawSocket, *http.Response, error) {
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, res, err := d.Dial(wsURL, header)
	if err != nil {
		return nil, res, err
	}
	s := &rawSocket{ws: ws}
	open, err := s.read(5 * time.Second)
	if err != nil || !strings.HasPrefix(open, "0{") {
		ws.Close()
		return nil, res, fmt.Errorf("open packet: %q %v", open, err)
	}
	return s, res, nil
}

// read returns the next Engine.IO packet that is not a ping (pings are
// answered).
func (s *rawSocket) read(timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		_ = s.ws.SetReadDeadline(deadline)
		_, b, err := s.ws.ReadMessage()
		if err != nil {
			return "", err
		}
		if string(b) == "2" {
			if err := s.write(websocket.TextMessage, []byte("3")); err != nil {
				return "", err
			}
			continue
		}
		return string(b), nil
	}
}

// connect joins namespace "/" with auth (nil: none) and returns the
// server's answer (40… or 44…).
func (s *rawSocket) connect(auth map[string]any) (string, error) {
	return s.connectWithin(auth, 5*time.Second)
}

func (s *rawSocket) connectWithin(auth map[string]any, timeout time.Duration) (string, error) {
	pkt := "40"
	if auth != nil {
		b, _ := json.Marshal(auth)
		pkt += string(b)
	}
	if err := s.send(pkt); err != nil {
		return "", err
	}
	return s.read(timeout)
}

func (s *rawSocket) send(frame string) error {
	return s.write(websocket.TextMessage, []byte(frame))
}

func (s *rawSocket) write(messageType int, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return s.ws.WriteMessage(messageType, b)
}

// waitAck reads until the ack with id arrives, skipping broadcasts.
func (s *rawSocket) waitAck(id int, timeout time.Duration) (string, error) {
	prefix := fmt.Sprintf("43%d[", id)
	deadline := time.Now().Add(timeout)
	for {
		p, err := s.read(time.Until(deadline))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(p, prefix) {
			return p[len(prefix)-1:], nil
		}
	}
}

func (s *rawSocket) close() { _ = s.ws.Close() }

// connectRaw dials and joins "/" with auth, retrying as the stock client
// does: the library loses about one CONNECT in 200 on a busy machine
// (sockets/doc.go, defect 2).
func connectRaw(tb testing.TB, url string, auth map[string]any) *rawSocket {
	tb.Helper()
	for try := 1; ; try++ {
		s, _, err := dialRaw(url, nil)
		if err != nil {
			tb.Fatalf("dial: %v", err)
		}
		got, err := s.connectWithin(auth, time.Second)
		if err == nil && strings.HasPrefix(got, "40{") {
			return s
		}
		s.close()
		if try == 5 {
			tb.Fatalf("connect: %q %v", got, err)
		}
	}
}

// Socket.IO handshakes over the per-address cap get 429 rate_limited JSON
// before the engine sees them, over WebSocket and polling alike; a closed
// session frees its slot.
func TestConnectionCap(t *testing.T) {
	srv := newSecServer(t, Config{ConnectionsPerIP: 2}, nil)
	a, _, err := dialRaw(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "0{") {
		t.Fatalf("second connection (polling): %d %s", res.StatusCode, body)
	}
	var open struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.Sid == "" {
		t.Fatalf("open packet %s: %v", body, err)
	}
	// Third: refused, WebSocket and polling.
	if _, res, err := dialRaw(srv.URL, nil); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection (websocket): %v %v, want 429", err, res)
	}
	res, err = http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || errorCode(body) != CodeRateLimited {
		t.Fatalf("third connection (polling): %d %s, want 429 rate_limited", res.StatusCode, body)
	}
	// Requests of an admitted session (with its sid) are not handshakes.
	res, err = http.Post(srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+open.Sid, "text/plain;charset=UTF-8", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a request of an admitted session at the cap: %d, want 200", res.StatusCode)
	}
	// Closing the WebSocket session frees a slot, once the engine notices.
	a.close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _, err := dialRaw(srv.URL, nil)
		if err == nil {
			b.close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no slot freed 5 s after a session closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // poll interval of a deadline wait
	}
}

// Library defect 15: a session can close before the engine's "connection"
// listeners run (the client has its OPEN packet by then). A session closed
// in that window must still free its slot: here an earlier listener closes
// every session, so TrackConnections always comes too late. Without the
// workaround the second handshake is refused (429).
func TestConnectionCapSessionClosedBeforeTracked(t *testing.T) {
	srv := newSecServerWith(t, Config{ConnectionsPerIP: 1}, nil, func(sio *sockets.Server) {
		_ = sio.IO.Engine().On("connection", func(args ...any) {
			if conn, ok := args[0].(engine.Socket); ok {
				conn.Close(true)
			}
		})
	})
	for i := range 3 {
		res, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("handshake %d at a cap of 1, each session closed: %d %s", i+1, res.StatusCode, body)
		}
	}
	if n := srv.r.limits.conns.Count("127.0.0.1"); n != 0 {
		t.Fatalf("slots held after every session closed: %d", n)
	}
}

// SSE streams count against the same cap while they last.
func TestConnectionCapSSE(t *testing.T) {
	srv := newSecServer(t, Config{ConnectionsPerIP: 1}, nil)
	req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(`{"id":"S1","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":1}`))
	req.Header.Set("Authorization", "Bearer "+secAPIKey)
	if rec := srv.serve(req); rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/orders/S1/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	first.Header.Set("Authorization", "Bearer "+secAPIKey)
	res, err := http.DefaultClient.Do(first)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d", res.StatusCode)
	}
	second, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/orders/S1/stream", nil)
	second.Header.Set("Authorization", "Bearer "+secAPIKey)
	res2, err := http.DefaultClient.Do(second)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != http.StatusTooManyRequests || errorCode(b) != CodeRateLimited {
		t.Fatalf("second stream over the cap: %d %s", res2.StatusCode, b)
	}
	cancel()
	_, _ = io.Copy(io.Discard, res.Body) // ends when the server sees the stream go
	deadline := time.Now().Add(5 * time.Second)
	for srv.r.limits.conns.Count("127.0.0.1") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream's slot was not freed")
		}
		time.Sleep(10 * time.Millisecond) // poll interval of a deadline wait
	}
}

// One socket follows at most maxRoomsPerSocket orders; re-subscribing to
// one it follows still works at the cap, and so does another socket.
func TestRoomsPerSocketCap(t *testing.T) {
	srv := newSecServer(t, Config{EventRate: 1e6, EventBurst: 1 << 20}, nil)
	for i := range maxRoomsPerSocket + 1 {
		req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(orderBody(fmt.Sprintf("R%d", i))))
		req.Header.Set("Authorization", "Bearer "+secAPIKey)
		if rec := srv.serve(req); rec.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
	}
	staff, _ := srv.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	connectStaff := func() *rawSocket { return connectRaw(t, srv.URL, map[string]any{"token": staff}) }
	subscribe := func(s *rawSocket, n int, order string) string {
		if err := s.send(fmt.Sprintf(`42%d["order:subscribe",{"orderId":%q}]`, n, order)); err != nil {
			t.Fatal(err)
		}
		ack, err := s.waitAck(n, 5*time.Second)
		if err != nil {
			t.Fatalf("subscribe %s: %v", order, err)
		}
		return ack
	}
	s := connectStaff()
	defer s.close()
	for i := range maxRoomsPerSocket {
		if ack := subscribe(s, i+1, fmt.Sprintf("R%d", i)); !strings.Contains(ack, `"ok":true`) {
			t.Fatalf("subscribe %d: %s", i, ack)
		}
	}
	over := subscribe(s, 1000, fmt.Sprintf("R%d", maxRoomsPerSocket))
	if !strings.Contains(over, `"code":"bad_request"`) {
		t.Fatalf("subscribe past the cap: %s, want bad_request", over)
	}
	if again := subscribe(s, 1001, "R0"); !strings.Contains(again, `"ok":true`) {
		t.Fatalf("re-subscribe at the cap: %s", again)
	}
	other := connectStaff()
	defer other.close()
	if ack := subscribe(other, 1, fmt.Sprintf("R%d", maxRoomsPerSocket)); !strings.Contains(ack, `"ok":true`) {
		t.Fatalf("another socket: %s", ack)
	}
}

// An idle SSE stream carries a comment line every SSEHeartbeat (15 s by
// default; shortened here), with the headers proxies need.
func TestSSEHeartbeat(t *testing.T) {
	srv := newSecServer(t, Config{SSEHeartbeat: 20 * time.Millisecond}, nil)
	req := httptest.NewRequest(http.MethodPost, "/api/orders", strings.NewReader(`{"id":"H1","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":1}`))
	req.Header.Set("Authorization", "Bearer "+secAPIKey)
	if rec := srv.serve(req); rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/orders/H1/stream", nil)
	stream.Header.Set("Authorization", "Bearer "+secAPIKey)
	res, err := http.DefaultClient.Do(stream)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for name, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := res.Header.Get(name); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	lines := bufio.NewScanner(res.Body)
	beats := 0
	for beats < 3 && lines.Scan() {
		if lines.Text() == ": keep-alive" {
			beats++
		}
	}
	if beats < 3 {
		t.Fatalf("%d heartbeats before the 5 s deadline (%v), want 3", beats, lines.Err())
	}
}
