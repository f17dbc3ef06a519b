package sockets

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// WebSocket opcodes (RFC 6455 5.2) that ordercast's transport writes.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA
)

// appendFrameHeader appends the header of one unmasked, final server frame
// of n payload bytes.
func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// appendFrame appends one frame carrying payload.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	return append(appendFrameHeader(b, op, len(payload)), payload...)
}

// engineTypeByte is the Engine.IO v4 text prefix of a packet type.
func engineTypeByte(t packet.Type) (byte, bool) {
	switch t {
	case packet.OPEN:
		return '0', true
	case packet.CLOSE:
		return '1', true
	case packet.PING:
		return '2', true
	case packet.PONG:
		return '3', true
	case packet.MESSAGE:
		return '4', true
	case packet.UPGRADE:
		return '5', true
	case packet.NOOP:
		return '6', true
	}
	return 0, false
}

// appendPacket appends p as one frame, encoded straight into b where it can
// be: a broadcast's pre-encoded frame (shared by every recipient) or a text
// packet is copied once, from its buffer into b. Anything else (binary or
// base64 data, protocol 3) goes through the engine's parser.
func appendPacket(b []byte, p *packet.Packet, pr parser.Parser, supportsBinary bool) ([]byte, error) {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		return appendBuffer(b, p.Options.WsPreEncodedFrame), nil
	}
	if pr.Protocol() == 4 {
		if c, ok := engineTypeByte(p.Type); ok {
			if p.Data == nil {
				return append(appendFrameHeader(b, opText, 1), c), nil
			}
			if payload, ok := textBytes(p.Data); ok {
				return append(append(appendFrameHeader(b, opText, 1+len(payload)), c), payload...), nil
			}
		}
	}
	data, err := pr.EncodePacket(forParser(p), supportsBinary)
	if err != nil {
		return b, err
	}
	return appendBuffer(b, data), nil
}

// appendBuffer frames data as text when the engine made it a string, else
// as binary (as the library's transport does).
func appendBuffer(b []byte, data types.BufferInterface) []byte {
	if _, ok := data.(*types.StringBuffer); ok {
		return appendFrame(b, opText, data.Bytes())
	}
	return appendFrame(b, opBinary, data.Bytes())
}

// Buffers live only while a flush is being written (or held by the
// corker), or while read bytes wait to be handled; then they go back here,
// so that an idle connection holds none.
// While an emit to 10k clients is corked, each holds one: 1 KB takes a
// few status frames (~250 B each) without growing, and keeps that peak at
// ~10 MB; a buffer that grew comes back grown.
const (
	writeBufSize = 1 << 10
	// maxPooledBuf: a buffer grown past this by a big message is dropped
	// rather than kept in the pool.
	maxPooledBuf = 64 << 10
)

type bufPool struct {
	p   sync.Pool
	out atomic.Int64 // buffers taken and not given back: 0 while every connection is idle
}

func (bp *bufPool) get() *[]byte {
	bp.out.Add(1)
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, writeBufSize)
	return &b
}

func (bp *bufPool) put(b *[]byte) {
	if b == nil {
		return
	}
	bp.out.Add(-1)
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bp.p.Put(b)
}
