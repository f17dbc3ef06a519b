package sockets

import (
	"encoding/json"
	"testing"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engineparser "github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Every recipient of an encoded text packet gets the encoder's bytes, not
// a copy: the library clones the encoder's buffer for each one
// (Client.WriteToEngine).
func TestEncodedTextIsSharedByRecipients(t *testing.T) {
	id := uint64(7)
	enc := strictParser{}.NewEncoder()
	for _, tc := range []struct {
		name  string
		p     parser.Packet
		event bool
	}{
		{"raw broadcast", parser.Packet{Type: parser.EVENT, Nsp: "/",
			Data: []any{json.RawMessage(`"order:status"`), json.RawMessage(`{"seq":2}`)}}, true},
		{"broadcast", parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"order:presence", map[string]any{"staff": 1}}}, true},
		{"raw ack", parser.Packet{Type: parser.ACK, Nsp: "/", Id: &id, Data: []any{json.RawMessage(`{"ok":true}`)}}, false},
		{"event asking for an ack", parser.Packet{Type: parser.EVENT, Nsp: "/", Id: &id, Data: []any{"ping"}}, false},
		{"connect", parser.Packet{Type: parser.CONNECT, Nsp: "/", Data: map[string]any{"sid": "x"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := enc.Encode(&tc.p)
			if len(out) != 1 {
				t.Fatalf("%d buffers", len(out))
			}
			a, b := out[0].Clone(), out[0].Clone()
			ab, _ := textBytes(a)
			bb, _ := textBytes(b)
			if len(ab) == 0 || &ab[0] != &bb[0] {
				t.Fatalf("two recipients got two copies of %q", ab)
			}
			if got := heldBack(&packet.Packet{Type: packet.MESSAGE, Data: a}); got != tc.event {
				t.Errorf("held back by the corker: %v, want %v", got, tc.event)
			}
		})
	}
}

// A binary packet (a text part and its attachments) stays the library's:
// its parts are read once each, by one recipient's transport.
func TestBinaryPacketsNotShared(t *testing.T) {
	out := strictParser{}.NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/",
		Data: []any{"file", types.NewBytesBuffer([]byte{1, 2, 3})}})
	if len(out) != 2 {
		t.Fatalf("%d buffers, want a text part and an attachment", len(out))
	}
	for _, b := range out {
		if _, ok := b.(*sharedText); ok {
			t.Errorf("%T shared", b)
		}
	}
}

// The engine's parser tells text from binary by the library's own string
// buffer type, and consumes the buffer it reads: a shared packet reaches it
// as a copy of its own, and comes out as the text packet the library's
// own buffer makes, as often as it is encoded.
func TestSharedTextThroughTheEngineParser(t *testing.T) {
	out := strictParser{}.NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"e"}})
	p := &packet.Packet{Type: packet.MESSAGE, Data: out[0].Clone()}
	for _, pr := range []engineparser.Parser{engineparser.Parserv3(), engineparser.Parserv4(), engineparser.Parserv4()} {
		got, err := pr.EncodePacket(forParser(p), false)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := pr.EncodePacket(&packet.Packet{Type: packet.MESSAGE, Data: types.NewStringBufferString(`2["e"]`)}, false)
		if got.String() != want.String() {
			t.Errorf("protocol %d: %q, want %q", pr.Protocol(), got, want)
		}
	}
	if _, ok := p.Data.(*sharedText); !ok {
		t.Fatalf("forParser changed the recipient's packet: %T", p.Data)
	}
}

// With one of the library's transports (the A/B benchmarks'), which read
// what they write, every recipient gets a copy of its own.
func TestLibraryTransportsGetCopies(t *testing.T) {
	out := strictParser{copies: true}.NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"e"}})
	a, b := out[0].Clone(), out[0].Clone()
	if _, ok := a.(*types.StringBuffer); !ok {
		t.Fatalf("%T, want the library's string buffer", a)
	}
	if _, _ = a.ReadByte(); b.String() != `2["e"]` {
		t.Fatalf("a read by one recipient left %q to the next", b.String())
	}
}
