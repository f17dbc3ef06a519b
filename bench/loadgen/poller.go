package main

import (
	"sync"
	"syscall"
	"time"
)

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
