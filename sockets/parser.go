package sockets

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
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
}

func (strictParser) NewEncoder() parser.Encoder { return parser.NewEncoder() }

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
