package sockets

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// messages collects the data of the MESSAGE packets the engine session
// reads, in order.
func messages(es engine.Socket) chan string {
	got := make(chan string, 64)
	// "packet" comes before the Socket.IO layer reads the data.
	_ = es.On("packet", func(args ...any) {
		if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.MESSAGE {
			if b, ok := p.Data.(types.BufferInterface); ok {
				got <- b.String()
			}
		}
	})
	return got
}

func expectMessages(t *testing.T, got chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case m := <-got:
			if m != w {
				t.Fatalf("read %q, want %q", m, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no message %q", w)
		}
	}
}

// Frames reach the engine whole and in order however TCP cuts them: many
// in one segment, one cut in single bytes, one in fragments with a ping
// between them; and once all are handled the connection holds no buffer.
func TestWSReadFrames(t *testing.T) {
	s, base, sessions := wsServer(t, wsConfig, nil, false)
	ws, es := dialWS(t, base, sessions)
	got := messages(es)
	conn := ws.NetConn() // raw frames, written by hand
	// Socket.IO packets (a CONNECT, then events nobody listens to), so that
	// the Socket.IO layer above keeps the session open.
	var burst []byte
	for _, m := range []string{"40", `42["one"]`, `42["two"]`} {
		burst = append(burst, clientFrameBytes(true, opText, []byte(m), false)...)
	}
	if _, err := conn.Write(burst); err != nil {
		t.Fatal(err)
	}
	expectMessages(t, got, "0", `2["one"]`, `2["two"]`)
	if err := expectFrame(ws, "40{"); err != nil {
		t.Fatal(err)
	}

	long := `2["` + strings.Repeat("c", 200) + `"]`
	cut := clientFrameBytes(true, opText, []byte("4"+long), false)
	for i := range cut {
		if _, err := conn.Write(cut[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	expectMessages(t, got, long)

	pongs := make(chan string, 1)
	ws.SetPongHandler(func(d string) error { pongs <- d; return nil })
	var frags []byte
	frags = append(frags, clientFrameBytes(false, opText, []byte(`42["fr`), false)...)
	frags = append(frags, clientFrameBytes(true, opPing, []byte("mid"), false)...)
	frags = append(frags, clientFrameBytes(false, opContinuation, []byte("ag"), false)...)
	frags = append(frags, clientFrameBytes(true, opContinuation, []byte(`ments"]`), false)...)
	if _, err := conn.Write(frags); err != nil {
		t.Fatal(err)
	}
	expectMessages(t, got, `2["fragments"]`)
	es.Send(types.NewStringBufferString("after"), nil, nil)
	if err := expectFrame(ws, "4after"); err != nil { // runs the pong handler on the way
		t.Fatal(err)
	}
	expectPong(t, pongs, "mid") // the pong handler ran inside the read above
	eventually(t, "no buffer held while idle", func() bool { return builderOf(t, s).pool.out.Load() == 0 })
}

// A malformed frame closes its own session with 1002 (a transport
// error); another session goes on.
func TestWSProtocolErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		code  int
	}{
		{"unmasked", clientFrameBytes(true, opText, []byte("4x"), true), websocket.CloseProtocolError},
		{"continuation first", clientFrameBytes(true, opContinuation, []byte("x"), false), websocket.CloseProtocolError},
		{"new message inside a fragmented one", append(clientFrameBytes(false, opText, []byte("4a"), false),
			clientFrameBytes(true, opText, []byte("4b"), false)...), websocket.CloseProtocolError},
		{"fragments over the limit", append(clientFrameBytes(false, opText, bytes.Repeat([]byte("a"), 600), false),
			clientFrameBytes(true, opContinuation, bytes.Repeat([]byte("b"), 600), false)...), websocket.CloseMessageTooBig},
		{"close code 1005", clientFrameBytes(true, opClose, []byte{0x03, 0xED}, false), websocket.CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base, sessions := wsServer(t, wsConfig, nil, false)
			bad, badSession := dialWS(t, base, sessions)
			good, goodSession := dialWS(t, base, sessions)
			closed := closeReason(t, badSession)
			if _, err := bad.NetConn().Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			if reason := closed(); reason != "transport error" {
				t.Errorf("closed with %q, want transport error", reason)
			}
			expectCloseCode(t, bad, tt.code)
			goodSession.Send(types.NewStringBufferString("still here"), nil, nil)
			if f := readFrames(t, good, 1); f[0] != "4still here" {
				t.Fatalf("the other session got %q", f)
			}
		})
	}
}

// builderOf is the server's WebSocket transport builder.
func builderOf(t *testing.T, s *Server) *wsBuilder {
	t.Helper()
	for _, c := range s.IO.Engine().Opts().Transports().Keys() {
		if b, ok := c.(*wsBuilder); ok {
			return b
		}
	}
	t.Fatal("no ordercast WebSocket transport")
	return nil
}

// decodeText decodes what the engine's parser decodes to the same packet,
// with the message's own bytes rather than a copy of 512 or more; it
// leaves the rest to the parser.
func TestDecodeText(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{`42["order:subscribe",{"orderId":"o1"}]`, true},
		{"2", true},
		{"3probe", true},
		{"5", true},
		{"6", true},
		{"1", true},
		{"", false},
		{"9x", false},
		{"bAQI=", false}, // base64 binary: the parser's
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			msg := []byte(tt.msg)
			p, ok := decodeText(msg)
			if ok != tt.want {
				t.Fatalf("decoded: %v, want %v", ok, tt.want)
			}
			if !ok {
				return
			}
			lib, err := parser.Parserv4().DecodePacket(types.NewStringBufferString(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			data := p.Data.(*types.StringBuffer)
			if p.Type != lib.Type || data.String() != lib.Data.(types.BufferInterface).String() {
				t.Errorf("got %v %q, the parser %v %q", p.Type, data.String(), lib.Type, lib.Data)
			}
			if data.Cap() >= cap(msg) {
				t.Errorf("data buffer of %d bytes, not the message's own %d", data.Cap(), cap(msg))
			}
		})
	}
}

// A text message reaches the engine in a buffer of its own size: the
// engine's parser gave each one 512 bytes or more.
func TestWSTextPacketsKeepTheirSize(t *testing.T) {
	_, base, sessions := wsServer(t, wsConfig, nil, false)
	ws, es := dialWS(t, base, sessions)
	caps := make(chan int, 8)
	_ = es.On("packet", func(args ...any) {
		if p, ok := args[0].(*packet.Packet); ok && p.Type == packet.MESSAGE {
			caps <- p.Data.(types.BufferInterface).Cap()
		}
	})
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["one"]`)); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-caps:
		if c >= 512 {
			t.Errorf("a 9-byte message arrived in a buffer of %d bytes", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
}
