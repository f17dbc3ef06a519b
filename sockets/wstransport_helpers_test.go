package sockets

import (
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

// writeCount counts the writes of a server's accepted connections, both
// through net.Conn.Write and through their descriptor (the transport's
// non-blocking path). A closed gate makes Write wait for it.
type writeCount struct {
	n    atomic.Int64
	mu   sync.Mutex
	gate chan struct{}
}

func (w *writeCount) hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gate = make(chan struct{})
}

func (w *writeCount) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gate != nil {
		close(w.gate)
		w.gate = nil
	}
}

func (w *writeCount) wait() {
	w.mu.Lock()
	g := w.gate
	w.mu.Unlock()
	if g != nil {
		<-g
	}
}

// countConn: Write is counted; it offers no descriptor, so the transport
// writes through its writer goroutine.
type countConn struct {
	net.Conn
	w *writeCount
}

func (c *countConn) Write(b []byte) (int, error) {
	c.w.wait()
	c.w.n.Add(1)
	return c.Conn.Write(b)
}

// rawCountConn also offers its descriptor, whose writes are counted too.
type rawCountConn struct{ countConn }

func (c *rawCountConn) SyscallConn() (syscall.RawConn, error) {
	raw, err := c.Conn.(syscall.Conn).SyscallConn()
	return countRaw{raw, c.w}, err
}

type countRaw struct {
	syscall.RawConn
	w *writeCount
}

func (r countRaw) Write(f func(uintptr) bool) error {
	r.w.n.Add(1)
	return r.RawConn.Write(f)
}

type countListener struct {
	net.Listener
	w   *writeCount
	raw bool
}

func (l countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.raw {
		return &rawCountConn{countConn{c, l.w}}, nil
	}
	return &countConn{c, l.w}, nil
}

// wsServer serves s with accepted connections counted in w; sessions
// receives each new engine session.
func wsServer(t *testing.T, cfg Config, w *writeCount, raw bool) (*Server, string, chan engine.Socket) {
	t.Helper()
	s := New(cfg)
	sessions := make(chan engine.Socket, 16)
	_ = s.IO.Engine().On("connection", func(args ...any) { sessions <- args[0].(engine.Socket) })
	srv := httptest.NewUnstartedServer(s)
	if w != nil {
		srv.Listener = countListener{srv.Listener, w, raw}
	}
	srv.Start()
	t.Cleanup(func() { closeWithin(t, srv, s) })
	return s, srv.URL + "/socket.io/?EIO=4", sessions
}

func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "&transport=websocket"
}

// dialWS opens a WebSocket session and returns it with its engine session.
func dialWS(t *testing.T, base string, sessions chan engine.Socket) (*websocket.Conn, engine.Socket) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if err := expectFrame(ws, "0{"); err != nil {
		t.Fatal(err)
	}
	return ws, awaitSession(t, sessions)
}

// idleWS opens a WebSocket session on a server of cfg (writes counted in
// w) and returns it once its transport, ordercast's, has written the OPEN
// packet and holds nothing.
func idleWS(t *testing.T, cfg Config, w *writeCount, raw bool) (*websocket.Conn, *wsTransport) {
	t.Helper()
	_, base, sessions := wsServer(t, cfg, w, raw)
	ws, es := dialWS(t, base, sessions)
	wt := ownTransport(t, es)
	eventually(t, "the OPEN write", func() bool { return idle(wt) })
	return ws, wt
}

func awaitSession(t *testing.T, sessions chan engine.Socket) engine.Socket {
	t.Helper()
	select {
	case es := <-sessions:
		return es
	case <-time.After(5 * time.Second):
		t.Fatal("no engine session")
		return nil
	}
}

// readFrames reads n data frames.
func readFrames(t *testing.T, ws *websocket.Conn, n int) []string {
	t.Helper()
	var got []string
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < n {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(b))
	}
	return got
}

// eventually polls cond until it holds or 5 s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !within(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// within polls cond until it holds (true) or 5 s have passed (false); for
// goroutines other than the test's, which may not call t.Fatal.
func within(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond) // poll interval of a deadline wait
	}
	return true
}

// expectPong checks that a pong with data was read: the client's pong
// handler runs inside its reads, so it has run by the time a later frame
// was read.
func expectPong(t *testing.T, pongs chan string, data string) {
	t.Helper()
	select {
	case p := <-pongs:
		if p != data {
			t.Errorf("pong %q, want %q", p, data)
		}
	default:
		t.Errorf("no pong %q", data)
	}
}

// closeReason returns a wait for es's close reason.
func closeReason(t *testing.T, es engine.Socket) func() string {
	closed := make(chan string, 1)
	_ = es.Once("close", func(args ...any) { closed <- args[0].(string) })
	return func() string {
		t.Helper()
		select {
		case reason := <-closed:
			return reason
		case <-time.After(5 * time.Second):
			t.Fatal("the session stayed open")
			return ""
		}
	}
}

// expectCloseCode reads ws to its end, which must be a close frame of code.
func expectCloseCode(t *testing.T, ws *websocket.Conn, code int) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("connection ended with %v, want close %d", err, code)
		}
		return
	}
}
