package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsClient is one Socket.IO client over a WebSocket. gorilla does the
// handshake, the first two reads (OPEN, CONNECT) and every write; after
// CONNECT the socket's reads go to the shared epoll loop (poller), which
// reads each ready socket once per wake-up and parses the frames itself:
// one read syscall per wake-up, no goroutine per connection.
type wsClient struct {
	sioSession
	ws  *websocket.Conn
	wmu sync.Mutex
	fd  int
	id  int32

	// Owned by the poller loop.
	rbuf []byte // bytes of an incomplete frame
	msg  []byte // payload of a fragmented message
	frag bool

	doneOnce sync.Once
	done     chan struct{}
}

var writePool = &sync.Pool{}

// nextSourceIP gives each client its own loopback address (127.1.x.y,
// cycling through 64,516 of them), as if every customer had its own
// address: per-address limits of the server see what they would in
// production, and TIME_WAIT sockets never exhaust ephemeral ports.
func nextSourceIP() net.IP {
	n := sourceIP.Add(1) % (254 * 254)
	return net.IPv4(127, 1, byte(1+n/254), byte(1+n%254))
}

var sourceIP atomic.Uint32

func dialFrom(ip net.IP) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		return d.DialContext(ctx, network, addr)
	}
}

func dialer() *websocket.Dialer {
	return &websocket.Dialer{
		ReadBufferSize:   1024,
		WriteBufferSize:  512,
		WriteBufferPool:  writePool,
		HandshakeTimeout: 30 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialFrom(nextSourceIP())(ctx, network, addr)
		},
	}
}

var wsDialer = dialer()

func wsURL(addr string) string {
	u := url.URL{Scheme: "ws", Host: addr, Path: "/socket.io/", RawQuery: "EIO=4&transport=websocket"}
	return u.String()
}

// dialWS opens the WebSocket, sends CONNECT (auth may be nil), waits for
// the server's CONNECT answer, then hands the socket's reads to the poller.
func dialWS(ctx context.Context, addr string, sink statusSink, auth []byte) (*wsClient, error) {
	ws, _, err := wsDialer.DialContext(ctx, wsURL(addr), nil)
	if err != nil {
		return nil, err
	}
	c := &wsClient{ws: ws, done: make(chan struct{})}
	c.init(c.write, sink)
	fail := func(err error) (*wsClient, error) {
		_ = ws.NetConn().Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(dl)
	}
	// The server speaks first (OPEN) and then only answers CONNECT, so once
	// CONNECT is answered gorilla has nothing buffered: the poller can take
	// over the reads.
	if _, open, err := ws.ReadMessage(); err != nil {
		return fail(err)
	} else if len(open) == 0 || open[0] != '0' {
		return fail(fmt.Errorf("unexpected open packet %q", open))
	}
	connect := []byte("40")
	if auth != nil {
		connect = append(connect, auth...)
	}
	if err := c.write(connect); err != nil {
		return fail(err)
	}
	for {
		_, m, err := ws.ReadMessage()
		if err != nil {
			return fail(err)
		}
		c.handle(m, time.Now())
		if len(m) >= 2 && m[0] == '4' && (m[1] == '0' || m[1] == '4') {
			break
		}
	}
	if err := c.waitConnected(ctx); err != nil {
		return fail(err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	if err := thePoller().add(c); err != nil {
		return fail(err)
	}
	return c, nil
}

func (c *wsClient) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, p)
}

func (c *wsClient) finish() {
	c.doneOnce.Do(func() {
		c.markClosed()
		close(c.done)
	})
}

// Close closes the TCP connection at once (no close handshake), which is
// what a dropped client looks like to the server.
func (c *wsClient) Close() {
	thePoller().remove(c) // before the fd can be reused
	_ = c.ws.NetConn().Close()
	c.finish()
}

// dropAll closes many clients' connections as close together in time as
// possible.
func dropAll(cs []*wsClient) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}
