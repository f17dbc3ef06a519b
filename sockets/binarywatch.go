package sockets

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// limitBinary (defect 7) bounds binary Socket.IO packets. The v3
// parser (parsers/socket/v3/parser decoder.go, binary.go) keeps the
// attachments of a binary packet until the last one arrives, with no
// deadline and no bound but maxHttpBufferSize per frame: a client
// announcing 10 attachments and sending 9 pins up to 9 x maxHttpBufferSize
// for as long as it stays connected. Here a binary packet must arrive
// whole within timeout and, attachments included, within maxBytes (the
// contract's limit on one Socket.IO message); else its connection is closed.
// It returns what to do for each new session (see onOpened).
func limitBinary(maxBytes int64, timeout time.Duration) func(engine.Socket) {
	return func(conn engine.Socket) {
		// Close(true): at once, dropping what is queued for this client.
		// Close(false) waits for a "drain" that can fire between its check
		// of the write buffer and its listening for it, and then never closes.
		w := &binaryWatch{close: func() { conn.Close(true) }}
		// "packet" comes before the Socket.IO decoder reads the data, so
		// the header can be looked at without consuming it.
		_ = conn.On("packet", func(args ...any) {
			p, ok := args[0].(*packet.Packet)
			if !ok || p.Type != packet.MESSAGE {
				return
			}
			switch d := p.Data.(type) {
			case *types.StringBuffer:
				if n := attachments(d.Bytes()); n > 0 {
					w.start(n, int64(d.Len()), timeout)
				}
			case *types.BytesBuffer:
				w.add(int64(d.Len()), maxBytes)
			}
		})
		OnEngineClose(conn, w.stop)
	}
}

// attachments returns the attachment count of a binary Socket.IO packet
// header ("51-[...]", "61-12[...]"), or 0.
func attachments(b []byte) int {
	if len(b) < 3 || (b[0] != '5' && b[0] != '6') {
		return 0
	}
	n := 0
	for i := 1; i < len(b) && i < 4; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == '-':
			return n
		default:
			return 0
		}
	}
	return 0 // no dash within 3 digits: the parser refuses it
}

// binaryWatch is one connection's binary packet in progress.
type binaryWatch struct {
	close func()

	mu      sync.Mutex
	pending int
	size    int64
	timer   *time.Timer
}

func (w *binaryWatch) start(n int, header int64, timeout time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.pending, w.size = n, header
	w.timer = time.AfterFunc(timeout, w.close)
}

func (w *binaryWatch) add(n, maxBytes int64) {
	w.mu.Lock()
	if w.pending == 0 {
		w.mu.Unlock()
		return // not expected: the parser refuses it
	}
	w.pending--
	w.size += n
	over := maxBytes > 0 && w.size > maxBytes
	if (w.pending == 0 || over) && w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if over {
		w.close()
	}
}

func (w *binaryWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}
