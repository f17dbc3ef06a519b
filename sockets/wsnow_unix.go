//go:build unix

package sockets

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// rawConn is conn's descriptor, or nil when it offers none (TLS, a
// wrapped conn): then every write goes through the writer goroutine.
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// nowWriter writes without waiting: as much as the socket's send buffer
// takes at once (Node's write does the same, then queues the rest).
type nowWriter struct {
	b   []byte
	n   int
	err error
}

func (w *nowWriter) write(fd uintptr) bool {
	for w.n < len(w.b) {
		m, e := syscall.Write(int(fd), w.b[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case errors.Is(e, syscall.EINTR):
			continue
		case errors.Is(e, syscall.EAGAIN):
			return true // full: the rest waits for the writer goroutine
		case e != nil:
			w.err = e
			return true
		case m <= 0:
			return true
		}
	}
	return true // never let the runtime wait for writability here
}

// writeNow writes what raw takes of b at once; 0 and no error when its
// send buffer is full. fn is w.write, made once per connection (a method
// value made per call would be an allocation per write).
func writeNow(raw syscall.RawConn, w *nowWriter, fn func(uintptr) bool, b []byte) (int, error) {
	*w = nowWriter{b: b}
	err := raw.Write(fn)
	if err == nil {
		err = w.err
	}
	w.b = nil
	return w.n, err
}

// readNow reads what the socket has into the read buffer; when it has
// nothing, it gives the buffer back and lets the runtime wait for it to be
// readable (raw.Read calls it again then), so that a waiting connection
// holds no buffer. Errors go to t.readErr.
func (t *wsTransport) readNow(fd uintptr) bool {
	b := t.readSpace()
	for {
		n, e := syscall.Read(int(fd), (*b)[len(*b):cap(*b)])
		switch {
		case errors.Is(e, syscall.EINTR):
			continue
		case errors.Is(e, syscall.EAGAIN):
			t.releaseIfEmpty()
			return false
		case e != nil:
			t.readErr = e
		case n == 0:
			t.readErr = io.EOF
		default:
			*b = (*b)[:len(*b)+n]
		}
		return true
	}
}
