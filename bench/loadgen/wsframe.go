package main

import (
	"encoding/binary"
	"time"

	"github.com/gorilla/websocket"
)

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
