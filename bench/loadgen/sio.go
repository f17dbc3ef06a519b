package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Engine.IO v4 / Socket.IO v5 packets, as text:
//
//	0{...}          engine OPEN (sid, pingInterval, ...)
//	2 / 3           engine PING from the server / PONG from the client
//	40 / 40{...}    socket CONNECT to "/" (client) / CONNECT ok (server)
//	44{...}         socket CONNECT_ERROR
//	42["ev",...]    socket EVENT;  42N["ev",...] with an ack id
//	43N[...]        socket ACK
//	1               engine CLOSE, 6 NOOP
//
// A polling payload holds several packets separated by 0x1e.

// statusSink receives every order:status delivery.
type statusSink interface {
	status(orderID []byte, seq int, at time.Time)
}

var (
	errConnectRefused = errors.New("socket.io connect refused")
	errClosed         = errors.New("connection closed")
)

// sioSession is the protocol state shared by the WebSocket and polling
// transports: connect, pings, acks and event dispatch.
type sioSession struct {
	send func(p []byte) error // writes one packet
	sink statusSink

	connOnce  sync.Once
	connected chan struct{}
	connErr   error

	mu      sync.Mutex
	nextAck int
	acks    map[int]chan []byte

	closeOnce sync.Once
	closed    chan struct{}
}

func (s *sioSession) init(send func([]byte) error, sink statusSink) {
	s.send = send
	s.sink = sink
	s.connected = make(chan struct{})
	s.closed = make(chan struct{})
}

func (s *sioSession) markClosed() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.connOnce.Do(func() {
		s.connErr = errClosed
		close(s.connected)
	})
}

var (
	pfxStatus  = []byte(`42["order:status",`)
	keyOrderID = []byte(`"orderId":"`)
	keySeq     = []byte(`"seq":`)
)

// handle processes one Engine.IO packet; it returns false on CLOSE.
func (s *sioSession) handle(p []byte, now time.Time) bool {
	if len(p) == 0 {
		return true
	}
	switch p[0] {
	case '2': // ping
		_ = s.send([]byte{'3'})
	case '1':
		return false
	case '4':
		if len(p) < 2 {
			return true
		}
		switch p[1] {
		case '2':
			if bytes.HasPrefix(p, pfxStatus) && s.sink != nil {
				id, seq, ok := parseStatus(p[len(pfxStatus):])
				if ok {
					s.sink.status(id, seq, now)
				}
			}
		case '0':
			s.connOnce.Do(func() { close(s.connected) })
		case '4':
			s.connOnce.Do(func() {
				s.connErr = fmt.Errorf("%w: %s", errConnectRefused, p[2:])
				close(s.connected)
			})
		case '3':
			i := 2
			for i < len(p) && p[i] >= '0' && p[i] <= '9' {
				i++
			}
			id, err := strconv.Atoi(string(p[2:i]))
			if err != nil {
				return true
			}
			s.mu.Lock()
			ch := s.acks[id]
			delete(s.acks, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- append([]byte(nil), p[i:]...)
			}
		}
	}
	return true
}

// parseStatus finds orderId and seq in the payload object without decoding it.
func parseStatus(b []byte) ([]byte, int, bool) {
	i := bytes.Index(b, keyOrderID)
	if i < 0 {
		return nil, 0, false
	}
	b = b[i+len(keyOrderID):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return nil, 0, false
	}
	id := b[:j]
	k := bytes.Index(b[j:], keySeq)
	if k < 0 {
		return nil, 0, false
	}
	n, seq := j+k+len(keySeq), 0
	for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		seq = seq*10 + int(b[n]-'0')
	}
	return id, seq, true
}

// waitConnected waits for the Socket.IO CONNECT answer.
func (s *sioSession) waitConnected(ctx context.Context) error {
	select {
	case <-s.connected:
		return s.connErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// emitAck sends 42N[event,payloadJSON] and returns a channel for the ack's
// arguments (raw JSON array).
func (s *sioSession) emitAck(event string, payload []byte) (<-chan []byte, error) {
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.nextAck++
	id := s.nextAck
	if s.acks == nil {
		s.acks = map[int]chan []byte{}
	}
	s.acks[id] = ch
	s.mu.Unlock()
	buf := make([]byte, 0, 32+len(event)+len(payload))
	buf = append(buf, "42"...)
	buf = strconv.AppendInt(buf, int64(id), 10)
	buf = append(buf, `["`...)
	buf = append(buf, event...)
	buf = append(buf, `",`...)
	buf = append(buf, payload...)
	buf = append(buf, ']')
	if err := s.send(buf); err != nil {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
		return nil, err
	}
	return ch, nil
}

var ackOK = []byte(`"ok":true`)

// waitAck waits for an ack and checks that it says ok:true.
func (s *sioSession) waitAck(ctx context.Context, ch <-chan []byte) error {
	select {
	case b := <-ch:
		if !bytes.Contains(b, ackOK) {
			if len(b) > 200 {
				b = b[:200]
			}
			return fmt.Errorf("ack not ok: %s", b)
		}
		return nil
	case <-s.closed:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribe follows orders (id, token pairs), pipelined, and waits for every ack.
func (s *sioSession) subscribe(ctx context.Context, subs []subscription) error {
	chs := make([]<-chan []byte, 0, len(subs))
	for _, sub := range subs {
		p := make([]byte, 0, 96)
		p = append(p, `{"orderId":"`...)
		p = append(p, sub.order.id...)
		p = append(p, `","token":"`...)
		p = append(p, sub.order.token...)
		p = append(p, '"')
		if sub.since > 0 {
			p = append(p, `,"since":`...)
			p = strconv.AppendInt(p, int64(sub.since), 10)
		}
		p = append(p, '}')
		ch, err := s.emitAck("order:subscribe", p)
		if err != nil {
			return err
		}
		chs = append(chs, ch)
	}
	for _, ch := range chs {
		if err := s.waitAck(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}

type subscription struct {
	order *benchOrder
	since int
}
