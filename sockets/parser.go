package sockets

import (
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

// strictParser is the library's parser with ordercast's decoder limits.
type strictParser struct {
	maxAttachments uint64 // 0: maxAttachments
	encodes        *atomic.Int64
}

func (p strictParser) NewEncoder() parser.Encoder {
	if p.encodes == nil {
		return parser.NewEncoder()
	}
	return countingEncoder{Encoder: parser.NewEncoder(), n: p.encodes}
}

// countingEncoder is the library's encoder, counted (Server.Encodes).
type countingEncoder struct {
	parser.Encoder
	n *atomic.Int64
}

func (e countingEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	e.n.Add(1)
	return e.Encoder.Encode(p)
}

func (p strictParser) NewDecoder() parser.Decoder {
	opts := parser.DefaultDecoderOptions()
	if p.maxAttachments > 0 {
		opts.SetMaxAttachments(p.maxAttachments)
	} else {
		opts.SetMaxAttachments(maxAttachments)
	}
	opts.SetMaxNamespaceLength(maxNamespaceLength)
	return parser.NewDecoder(opts)
}
