package sockets

import (
	"encoding/json"
	"strconv"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Decoder limits, through the parser option of v3.0.6. ordercast speaks
// JSON events on "/" only: one binary attachment is generous (binary
// packets are bounded further by binarywatch.go), and no namespace name
// needs more than a few characters, so a client cannot make the decoder
// hold or scan more than that. Config.MaxAttachments can raise the first
// limit (the conformance fixture uses Node's 10: the protocol suites send
// two attachments).
const (
	maxAttachments     = 1
	maxNamespaceLength = 64
)

// strictParser is the library's parser with ordercast's decoder limits, a
// shorter decoding of plain events (eventdecode.go) and encoded packets
// shared by their recipients (sharedtext.go).
type strictParser struct {
	maxAttachments uint64 // 0: maxAttachments
	encodes        *atomic.Int64
	copies         bool // each recipient gets a copy: a library transport reads it
}

func (p strictParser) NewEncoder() parser.Encoder {
	return rawEncoder{Encoder: parser.NewEncoder(), n: p.encodes, copies: p.copies}
}

// rawEncoder is the library's encoder, counted (Server.Encodes), that
// writes arguments already encoded (json.RawMessage: the handlers' acks)
// as they are. The library's path copies each map argument, walks it for
// binary data and has encoding/json sort its keys and re-validate every
// MarshalJSON's bytes: a fifth of a subscribe's CPU (bench/RESULTS.md).
type rawEncoder struct {
	parser.Encoder
	n      *atomic.Int64 // nil: not counted
	copies bool
}

func (e rawEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if e.n != nil {
		e.n.Add(1)
	}
	var out []types.BufferInterface
	if b, ok := encodeRaw(p); ok {
		out = []types.BufferInterface{b}
	} else {
		out = e.Encoder.Encode(p)
	}
	if e.copies {
		return out
	}
	return share(out, p)
}

// encodeRaw writes an EVENT or ACK whose arguments are all json.RawMessage
// as the library's encodeAsString does: <type>[/<nsp>,][<id>][<args>].
func encodeRaw(p *parser.Packet) (types.BufferInterface, bool) {
	if p.Type != parser.EVENT && p.Type != parser.ACK {
		return nil, false
	}
	args, ok := p.Data.([]any)
	if !ok || len(args) == 0 {
		return nil, false
	}
	size := 2 + len(args)
	for _, a := range args {
		raw, ok := a.(json.RawMessage)
		if !ok || len(raw) == 0 {
			return nil, false
		}
		size += len(raw)
	}
	if size > types.MaxPayloadSize {
		return nil, false // the library's path drops what is too large
	}
	b := make([]byte, 0, size+len(p.Nsp)+24)
	b = append(b, byte(p.Type)+'0')
	if p.Nsp != "" && p.Nsp != "/" {
		b = append(b, p.Nsp...)
		b = append(b, ',')
	}
	if p.Id != nil {
		b = strconv.AppendUint(b, *p.Id, 10)
	}
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a.(json.RawMessage)...)
	}
	b = append(b, ']')
	return types.NewStringBuffer(b), true
}

func (p strictParser) NewDecoder() parser.Decoder {
	opts := parser.DefaultDecoderOptions()
	if p.maxAttachments > 0 {
		opts.SetMaxAttachments(p.maxAttachments)
	} else {
		opts.SetMaxAttachments(maxAttachments)
	}
	opts.SetMaxNamespaceLength(maxNamespaceLength)
	return &eventDecoder{Decoder: parser.NewDecoder(opts)} // eventdecode.go
}
