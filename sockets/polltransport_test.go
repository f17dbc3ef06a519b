package sockets

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// pollSession is an open polling session of a test server.
type pollSession struct {
	t    *testing.T
	s    *Server
	c    *http.Client
	url  string
	conn engine.Socket
}

func openPollSession(t *testing.T, library bool) *pollSession {
	t.Helper()
	s := New(Config{Transports: []string{"polling", "websocket"}, ConnectTimeout: 10 * time.Second, libraryPolling: library})
	srv := httptest.NewServer(s)
	t.Cleanup(func() { closeWithin(t, srv, s) })
	c := &http.Client{Timeout: 5 * time.Second}
	sid := pollingSession(t, c, srv.URL)
	conn, ok := s.IO.Engine().Clients().Load(sid)
	if !ok {
		t.Fatal("no session after the handshake")
	}
	return &pollSession{t: t, s: s, c: c, url: srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid, conn: conn}
}

type answer struct {
	code int
	body string
}

// park sends a GET and returns its answer's channel once the transport
// has it parked.
func (p *pollSession) park(ctx context.Context) <-chan answer {
	p.t.Helper()
	ready := make(chan struct{})
	var once sync.Once
	tr := p.conn.Transport()
	_ = tr.Once("ready", func(...any) { once.Do(func() { close(ready) }) })
	out := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
		res, err := p.c.Do(req)
		if err != nil {
			out <- answer{0, err.Error()}
			return
		}
		defer res.Body.Close()
		b := make([]byte, 512)
		n, _ := res.Body.Read(b)
		out <- answer{res.StatusCode, string(b[:n])}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		p.t.Fatal("the GET was not parked")
	}
	return out
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing within 5 s", what)
	}
	var zero T
	return zero
}

func message(s string) []*packet.Packet {
	return []*packet.Packet{{Type: packet.MESSAGE, Data: types.NewStringBufferString(s)}}
}

// Defect 19: the engine's upgrade check and a flush can both send to one
// parked GET. The library's transport finds no GET for the second Send
// ("polling write error"): the session closes and those packets are lost.
// ordercast's keeps them for the next GET, and each Send still gets its
// "drain" once written.
func TestPollSendWithoutGETKeepsPackets(t *testing.T) {
	for _, tt := range []struct {
		name    string
		library bool
		kept    bool
	}{
		{"ordercast's transport", false, true},
		{"library's transport, defect 19 present", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := openPollSession(t, tt.library)
			tr := p.conn.Transport()
			var drains atomic.Int32
			_ = tr.On("drain", func(...any) { drains.Add(1) })
			closed := make(chan struct{})
			_ = p.conn.Once("close", func(...any) { close(closed) })
			first := p.park(context.Background())
			tr.Send([]*packet.Packet{{Type: packet.NOOP}}) // the upgrade check
			tr.Send(message("after"))                      // a flush at the same instant
			if a := wait(t, first, "first GET"); a.code != http.StatusOK || a.body != "6" {
				t.Fatalf("first GET: %d %q, want 200 \"6\"", a.code, a.body)
			}
			if !tt.kept {
				wait(t, closed, "session close")
				return
			}
			if a, _ := httpGet(p.c, p.url); a != http.StatusOK {
				t.Fatalf("second GET: %d, want 200", a)
			}
			select {
			case <-closed:
				t.Fatal("the session closed")
			default:
			}
			if n := drains.Load(); n != 2 {
				t.Fatalf("%d drains, want one per Send (2)", n)
			}
		})
	}
}

// The second GET carries what the first could not.
func TestPollKeptPacketsOrder(t *testing.T) {
	p := openPollSession(t, false)
	tr := p.conn.Transport()
	first := p.park(context.Background())
	tr.Send(message("a"))
	tr.Send(message("b"))
	tr.Send(message("c"))
	if a := wait(t, first, "first GET"); a.body != "4a" {
		t.Fatalf("first GET: %q, want \"4a\"", a.body)
	}
	if code, body := httpGet(p.c, p.url); code != http.StatusOK || body != "4b\x1e4c" {
		t.Fatalf("second GET: %d %q, want 200 \"4b\\x1e4c\"", code, body)
	}
}

// A client that leaves while its GET is parked ends the session, as with
// the library's transport; its handler returns.
func TestPollClientLeavesParkedGET(t *testing.T) {
	p := openPollSession(t, false)
	closed := make(chan struct{})
	_ = p.conn.Once("close", func(...any) { close(closed) })
	ctx, cancel := context.WithCancel(context.Background())
	pending := p.park(ctx)
	cancel()
	wait(t, pending, "the canceled GET")
	wait(t, closed, "session close")
	if code, _ := httpGet(p.c, p.url); code != http.StatusBadRequest {
		t.Fatalf("GET after: %d, want 400", code)
	}
}

// A server-side close reaches the client on its parked GET at once, or on
// its next GET.
func TestPollServerClose(t *testing.T) {
	t.Run("GET parked", func(t *testing.T) {
		p := openPollSession(t, false)
		pending := p.park(context.Background())
		p.conn.Close(false)
		if a := wait(t, pending, "parked GET"); a.code != http.StatusOK || a.body != "1" {
			t.Fatalf("parked GET: %d %q, want 200 \"1\"", a.code, a.body)
		}
	})
	t.Run("no GET parked", func(t *testing.T) {
		p := openPollSession(t, false)
		closed := make(chan struct{})
		_ = p.conn.Once("close", func(...any) { close(closed) })
		p.conn.Close(false)
		// The NOOP that carries the CLOSE, as from the library and Node.
		if code, body := httpGet(p.c, p.url); code != http.StatusOK || body != "6\x1e1" {
			t.Fatalf("next GET: %d %q, want 200 \"6\x1e1\"", code, body)
		}
		wait(t, closed, "session close")
	})
}

// Two GETs at once: the second is refused and the session closes, as
// with the library's transport.
func TestPollOverlappingGET(t *testing.T) {
	p := openPollSession(t, false)
	first := p.park(context.Background())
	if code, _ := httpGet(p.c, p.url); code != http.StatusBadRequest {
		t.Fatalf("overlapping GET: %d, want 400", code)
	}
	if a := wait(t, first, "first GET"); a.code != http.StatusOK {
		t.Fatalf("first GET: %d %q, want 200 (a NOOP or CLOSE as the session closes)", a.code, a.body)
	}
}

func TestQueryValue(t *testing.T) {
	tests := []struct {
		raw, key, want string
		has            bool
	}{
		{"EIO=4&transport=polling&sid=abc", "sid", "abc", true},
		{"EIO=4&transport=polling&sid=abc", "transport", "polling", true},
		{"sid=a&sid=b", "sid", "a", true},
		{"xsid=a", "sid", "", false},
		{"sid", "sid", "", true},
		{"sid=a%2Bb", "sid", "a+b", true},
		{"j=0", "j", "0", true},
		{"", "sid", "", false},
		{"&&sid=x&", "sid", "x", true},
	}
	for _, tt := range tests {
		if got := queryValue(tt.raw, tt.key); got != tt.want {
			t.Errorf("queryValue(%q, %q) = %q, want %q", tt.raw, tt.key, got, tt.want)
		}
		if _, got := queryLookup(tt.raw, tt.key); got != tt.has {
			t.Errorf("queryLookup(%q, %q) found %v, want %v", tt.raw, tt.key, got, tt.has)
		}
	}
}
