package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
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

// feed parses the frames in b (server frames are never masked) and
// dispatches complete messages; false means the connection is closing.
func (c *wsClient) feed(b []byte, now time.Time) bool {
	p := b
	if len(c.rbuf) > 0 {
		c.rbuf = append(c.rbuf, b...)
		p = c.rbuf
	}
	ok := true
	for len(p) >= 2 && ok {
		fin, op := p[0]&0x80 != 0, p[0]&0x0f
		n, h := int(p[1]&0x7f), 2
		switch n {
		case 126:
			if len(p) < 4 {
				break
			}
			n, h = int(binary.BigEndian.Uint16(p[2:])), 4
		case 127:
			if len(p) < 10 {
				break
			}
			n, h = int(binary.BigEndian.Uint64(p[2:])), 10
		}
		if n >= 126 && h == 2 || len(p) < h+n {
			break // incomplete header or payload
		}
		payload := p[h : h+n]
		p = p[h+n:]
		switch op {
		case websocket.TextMessage, websocket.BinaryMessage:
			if fin {
				ok = c.handle(payload, now)
			} else {
				c.msg, c.frag = append(c.msg[:0], payload...), true
			}
		case 0: // continuation
			if c.frag {
				c.msg = append(c.msg, payload...)
				if fin {
					c.frag = false
					ok = c.handle(c.msg, now)
					if cap(c.msg) > 64<<10 {
						c.msg = nil
					}
				}
			}
		case websocket.CloseMessage:
			ok = false
		case websocket.PingMessage:
			c.wmu.Lock()
			_ = c.ws.WriteControl(websocket.PongMessage, payload, time.Now().Add(5*time.Second))
			c.wmu.Unlock()
		}
	}
	if len(p) == 0 {
		c.rbuf = c.rbuf[:0]
	} else {
		c.rbuf = append(c.rbuf[:0:0], p...)
	}
	return ok
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

// poller reads every client socket from one epoll loop.
type poller struct {
	epfd  int
	mu    sync.Mutex
	conns map[int32]*wsClient
	next  int32
}

var (
	pollerOnce sync.Once
	pollerInst *poller
)

func thePoller() *poller {
	pollerOnce.Do(func() {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			fatalf("epoll: %v", err)
		}
		pollerInst = &poller{epfd: fd, conns: map[int32]*wsClient{}}
		go pollerInst.loop()
	})
	return pollerInst
}

func (p *poller) add(c *wsClient) error {
	raw, err := c.ws.NetConn().(syscall.Conn).SyscallConn()
	if err != nil {
		return err
	}
	if err := raw.Control(func(fd uintptr) { c.fd = int(fd) }); err != nil {
		return err
	}
	p.mu.Lock()
	p.next++
	c.id = p.next
	p.conns[c.id] = c
	p.mu.Unlock()
	// Level-triggered: one read per wake-up, the rest on the next one.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd), Pad: c.id}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.remove(c)
		return err
	}
	return nil
}

func (p *poller) remove(c *wsClient) {
	p.mu.Lock()
	if p.conns[c.id] == c {
		delete(p.conns, c.id)
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	}
	p.mu.Unlock()
}

func (p *poller) loop() {
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fatalf("epoll_wait: %v", err)
		}
		now := time.Now()
		for _, ev := range events[:n] {
			// The read happens under the lock, so Close (which removes the
			// client first) can't let the fd be reused under our feet.
			p.mu.Lock()
			c := p.conns[ev.Pad]
			var nr int
			var rerr error
			if c != nil {
				nr, rerr = syscall.Read(c.fd, buf)
			}
			p.mu.Unlock()
			if c == nil || rerr == syscall.EAGAIN || rerr == syscall.EINTR {
				continue
			}
			if nr <= 0 || !c.feed(buf[:nr], now) {
				p.remove(c)
				c.finish()
			}
		}
	}
}

// connectRetries counts connects that failed and were tried again, as a
// stock client does (it reconnects): the v3 library sometimes loses a
// CONNECT reply, and ordercast then closes the connection at its connect
// timeout so that the client retries (sockets/workarounds.go).
var connectRetries atomic.Int64

// dialRetry is dialWS tried up to 4 times.
func dialRetry(ctx context.Context, addr string, sink statusSink) (*wsClient, error) {
	for attempt := 1; ; attempt++ {
		c, err := dialWS(ctx, addr, sink, nil)
		if err == nil || attempt == 4 || ctx.Err() != nil {
			return c, err
		}
		connectRetries.Add(1)
	}
}

// connectMany dials n clients with at most conc handshakes in flight and
// returns them with each one's connect time.
func connectMany(ctx context.Context, addr string, n, conc int, sink statusSink) ([]*wsClient, []time.Duration, error) {
	cs := make([]*wsClient, n)
	lat := make([]time.Duration, n)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	var next atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < min(conc, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				c, err := dialRetry(ctx, addr, sink)
				if err != nil {
					select {
					case errs <- fmt.Errorf("client %d: %w", i, err):
					default:
					}
					cancel()
					return
				}
				lat[i] = time.Since(t0)
				cs[i] = c
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		dropAll(cs)
		return nil, nil, err
	default:
	}
	return cs, lat, nil
}

// forEach runs fn for every client with at most conc at a time and returns
// the first error.
func forEach[T any](ctx context.Context, items []T, conc int, fn func(int, T) error) error {
	var wg sync.WaitGroup
	var next atomic.Int64
	var first atomic.Pointer[error]
	for w := 0; w < min(conc, len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) || first.Load() != nil || ctx.Err() != nil {
					return
				}
				if err := fn(i, items[i]); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}
