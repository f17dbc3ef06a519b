package sockets

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var wsConfig = Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: 1000, ConnectTimeout: 10 * time.Second}

func ownTransport(t *testing.T, es engine.Socket) *wsTransport {
	t.Helper()
	wt, ok := es.Transport().(*wsTransport)
	if !ok {
		t.Fatalf("transport %T, want ordercast's *wsTransport", es.Transport())
	}
	return wt
}

// idle: the transport holds no write buffer and owns no writer goroutine.
func idle(wt *wsTransport) bool {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.pending == nil && !wt.writing && wt.Writable()
}

// A message over MaxMessageBytes closes that session alone.
func TestWSMaxMessageSize(t *testing.T) {
	_, base, sessions := wsServer(t, wsConfig, nil, false)
	big, bigSession := dialWS(t, base, sessions)
	small, smallSession := dialWS(t, base, sessions)
	closed := closeReason(t, bigSession)
	if err := big.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("x", 1500))); err != nil {
		t.Fatal(err)
	}
	if reason := closed(); reason != "transport error" {
		t.Errorf("closed with %q, want transport error", reason)
	}
	expectCloseCode(t, big, websocket.CloseMessageTooBig)
	// A CONNECT near the limit (its auth padded) passes.
	if err := small.WriteMessage(websocket.TextMessage, []byte(`40{"pad":"`+strings.Repeat("y", 900)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if err := expectFrame(small, "40{"); err != nil {
		t.Fatal(err)
	}
	smallSession.Send(types.NewStringBufferString("still here"), nil, nil)
	if got := readFrames(t, small, 1); got[0] != "4still here" || smallSession.ReadyState() != "open" {
		t.Fatalf("the other session: %q, %s", got, smallSession.ReadyState())
	}
}

// A polling session upgrades to ordercast's transport (2probe/3probe, 5),
// and packets then go over it.
func TestWSUpgradeFromPolling(t *testing.T) {
	_, base, sessions := wsServer(t, wsConfig, nil, false)
	c := &http.Client{Timeout: 5 * time.Second}
	sid, err := openPolling(c, base)
	if err != nil {
		t.Fatal(err)
	}
	es := awaitSession(t, sessions)
	upgraded := make(chan struct{})
	_ = es.Once("upgrade", func(...any) { close(upgraded) })
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(base)+"&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if err := expectFrame(ws, "3probe"); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-upgraded:
	case <-time.After(5 * time.Second):
		t.Fatal("no upgrade")
	}
	ownTransport(t, es)
	es.Send(types.NewStringBufferString("over ws"), nil, nil)
	if err := expectFrame(ws, "4over ws"); err != nil {
		t.Fatal(err)
	}
}

// Engine.IO heartbeats (PING "2", PONG "3") keep a session open, and a
// WebSocket ping control frame gets its pong through the transport.
func TestWSPingPong(t *testing.T) {
	cfg := wsConfig
	cfg.PingInterval, cfg.PingTimeout = 50*time.Millisecond, 2*time.Second
	_, base, sessions := wsServer(t, cfg, nil, false)
	ws, es := dialWS(t, base, sessions)
	pongs := make(chan string, 1)
	ws.SetPongHandler(func(data string) error { pongs <- data; return nil })
	if err := ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := readFrames(t, ws, 1); got[0] != "2" { // the pong handler runs inside the read
			t.Fatalf("heartbeat %d: %q, want PING", i, got)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
			t.Fatal(err)
		}
	}
	expectPong(t, pongs, "hi") // the pong handler ran inside the read above
	if es.ReadyState() != "open" {
		t.Errorf("session %s after 3 heartbeats", es.ReadyState())
	}
}

// Server close: a close frame (1000) after what was sent, then the
// connection ends. Client close: the session closes ("transport close").
func TestWSClose(t *testing.T) {
	_, base, sessions := wsServer(t, wsConfig, nil, false)
	ws, es := dialWS(t, base, sessions)
	es.Send(types.NewStringBufferString("last"), nil, nil)
	es.Close(false)
	if got := readFrames(t, ws, 1); got[0] != "4last" {
		t.Fatalf("got %q before the close", got)
	}
	var ce *websocket.CloseError
	if _, _, err := ws.ReadMessage(); !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("after server close: %v, want close 1000", err)
	}

	ws2, es2 := dialWS(t, base, sessions)
	wt := ownTransport(t, es2)
	closed := make(chan string, 1)
	_ = es2.Once("close", func(args ...any) { closed <- args[0].(string) })
	if err := ws2.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "")); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-closed:
		if reason != "transport close" {
			t.Errorf("closed with %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client close did not close the session")
	}
	if _, _, err := ws2.ReadMessage(); !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("the server's close reply: %v, want an echo of 1001", err)
	}
	if wt.ReadyState() != "closed" || !wt.shut.Load() {
		t.Errorf("transport %s, connection closed %v", wt.ReadyState(), wt.shut.Load())
	}
}

// Once the session is open, the transport holds nothing of gorilla's Conn
// (which only upgraded the connection) nor its buffers: it is collected
// while the session goes on.
func TestWSLetsGoOfGorillaConn(t *testing.T) {
	s := New(wsConfig)
	conns := make(chan weak.Pointer[websocket.Conn], 1)
	_ = s.IO.Engine().On("connection", func(args ...any) {
		// The engine tells of the session before it lets the reader start.
		conns <- weak.Make(args[0].(engine.Socket).Request().Websocket.Conn)
	})
	srv := httptest.NewServer(s)
	t.Cleanup(func() { closeWithin(t, srv, s) })
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv.URL+"/socket.io/?EIO=4"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := expectFrame(ws, "0{"); err != nil {
		t.Fatal(err)
	}
	conn := <-conns
	eventually(t, "gorilla's Conn collected", func() bool {
		runtime.GC()
		return conn.Value() == nil
	})
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if err := expectFrame(ws, "40{"); err != nil {
		t.Fatalf("the session after: %v", err)
	}
}

// A polling GET the engine hands to the WebSocket transport, because the
// upgrade completed between the engine's check of the GET and its
// hand-over (defect 20), is answered 400 as after any upgrade, instead of
// hanging until the client gives up.
func TestWSAnswersAnOvertakenPoll(t *testing.T) {
	_, base, sessions := wsServer(t, wsConfig, nil, false)
	_, es := dialWS(t, base, sessions)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling&sid="+es.Id(), nil)
	ctx := types.NewHttpContext(rec, req)
	wt := ownTransport(t, es)
	done := make(chan struct{})
	go func() { wt.OnRequest(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("OnRequest did not return")
	}
	if rec.Code != http.StatusBadRequest || rec.Body.String() != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("answered %d %q, want 400 Bad request", rec.Code, rec.Body.String())
	}
}

// hijackWatch counts what is written to a response after its connection
// was hijacked: net/http drops it and logs a warning for each.
type hijackWatch struct {
	http.ResponseWriter
	hijacked   atomic.Bool
	afterwards *atomic.Int64
}

func (w *hijackWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked.Store(true)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *hijackWatch) WriteHeader(code int) {
	if w.hijacked.Load() {
		w.afterwards.Add(1)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *hijackWatch) Write(b []byte) (int, error) {
	if w.hijacked.Load() {
		w.afterwards.Add(1)
	}
	return w.ResponseWriter.Write(b)
}

// A WebSocket handshake writes nothing to the response once gorilla has
// taken the connection over (OnRequest, called by the engine with the
// handshake, answered it with a 400 that net/http dropped and logged: a
// warning per connection).
func TestWSHandshakeWritesNothingAfterHijack(t *testing.T) {
	s := New(wsConfig)
	var afterwards atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(&hijackWatch{ResponseWriter: w, afterwards: &afterwards}, r)
	}))
	t.Cleanup(func() { closeWithin(t, srv, s) })
	base := srv.URL + "/socket.io/?EIO=4"
	for _, url := range []string{wsURL(base), wsURL(base) + "&sid=unknown"} {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			if err := expectFrame(ws, "0{"); err != nil {
				t.Fatal(err)
			}
			_ = ws.Close()
		}
	}
	if n := afterwards.Load(); n != 0 {
		t.Fatalf("%d writes to hijacked responses, want 0", n)
	}
}
