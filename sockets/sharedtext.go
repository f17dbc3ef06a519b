package sockets

import (
	"io"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// sharedText is an encoded text packet that every recipient gets as it
// is. The library clones what the encoder returns once per recipient
// (Client.WriteToEngine): a copy of every frame for every socket, 5% of a
// fan-out and 2.5% of a subscribe burst (bench/RESULTS.md). ordercast's
// transports only read a packet's bytes, never consume or change them,
// so Clone hands out the same buffer.
type sharedText struct {
	*types.StringBuffer
	// event: an EVENT without an ack id, a broadcast's frame, which the
	// corker may hold back (wscork.go); the rest is written at once.
	event bool
}

func (s *sharedText) Clone() types.BufferInterface { return s }

// share wraps what the encoder made of p when it is one text buffer; a
// binary packet (a text part and attachments) is left to the library.
func share(out []types.BufferInterface, p *parser.Packet) []types.BufferInterface {
	if len(out) != 1 {
		return out
	}
	if b, ok := out[0].(*types.StringBuffer); ok {
		out[0] = &sharedText{StringBuffer: b, event: p.Type == parser.EVENT && p.Id == nil}
	}
	return out
}

// textBytes is the payload of an outgoing text packet.
func textBytes(data io.Reader) ([]byte, bool) {
	switch d := data.(type) {
	case *sharedText:
		return d.Bytes(), true
	case *types.StringBuffer:
		return d.Bytes(), true
	}
	return nil, false
}

// heldBack tells whether p is a broadcast's frame, one the corker holds.
func heldBack(p *packet.Packet) bool {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		return true
	}
	s, ok := p.Data.(*sharedText)
	return ok && s.event
}

// forParser is p as the engine's parser takes it: a shared text packet's
// data as a copy in the library's own string buffer. The parser tells text
// from binary by that type, and reads (consumes) the buffer. ordercast's
// transports take this path only for what they do not frame themselves
// (Engine.IO v3), which ordercast does not enable.
func forParser(p *packet.Packet) *packet.Packet {
	if s, ok := p.Data.(*sharedText); ok {
		q := *p
		q.Data = s.StringBuffer.Clone()
		return &q
	}
	return p
}
