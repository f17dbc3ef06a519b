package sockets

import (
	"encoding/binary"
	"fmt"
)

// Client frames (RFC 6455 5.2), parsed by ordercast's transport itself so
// that an idle connection holds no read buffer (wsread.go).

// More WebSocket opcodes, the ones only a client sends.
const (
	opContinuation = 0x0
	opPing         = 0x9
)

// WebSocket close codes (RFC 6455 7.4.1) the reader sends.
const (
	closeProtocolError = 1002
	closeTooBig        = 1009
)

// frameError ends a connection with a close frame of its code.
type frameError struct {
	code int
	msg  string
}

func (e *frameError) Error() string { return fmt.Sprintf("websocket: %s (close %d)", e.msg, e.code) }

func protocolError(msg string) error { return &frameError{code: closeProtocolError, msg: msg} }

// clientFrame is one frame whose payload was unmasked in place.
type clientFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// parseFrame parses the first frame of b. n is the bytes it took; n == 0
// with a nil error means b holds only part of it. A data frame longer than
// limit is refused from its header, before its payload is read.
func parseFrame(b []byte, limit int64) (f clientFrame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.fin, f.op = b[0]&0x80 != 0, b[0]&0x0F
	if b[0]&0x70 != 0 {
		return f, 0, protocolError("reserved bits set") // no extension is ever negotiated
	}
	switch f.op {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !f.fin {
			return f, 0, protocolError("fragmented control frame")
		}
	default:
		return f, 0, protocolError(fmt.Sprintf("opcode %d", f.op))
	}
	if b[1]&0x80 == 0 {
		return f, 0, protocolError("unmasked client frame")
	}
	size, head := uint64(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return f, 0, nil
		}
		size, head = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, nil
		}
		size, head = binary.BigEndian.Uint64(b[2:]), 10
		if size>>63 != 0 {
			return f, 0, protocolError("frame length")
		}
	}
	if f.op >= opClose && size > 125 {
		return f, 0, protocolError("control frame over 125 bytes")
	}
	if size > uint64(limit) {
		return f, 0, &frameError{code: closeTooBig, msg: "message over the size limit"}
	}
	end := head + 4 + int(size)
	if len(b) < end {
		return f, 0, nil
	}
	mask := b[head : head+4]
	f.payload = b[head+4 : end]
	for i := range f.payload {
		f.payload[i] ^= mask[i&3]
	}
	return f, end, nil
}

// closeReply is the close frame's payload that answers a client's close
// payload (its code echoed, as gorilla did), or an error for a bad one.
func closeReply(payload []byte) ([]byte, error) {
	switch len(payload) {
	case 0:
		return []byte{}, nil
	case 1:
		return nil, protocolError("close payload of one byte")
	}
	code := binary.BigEndian.Uint16(payload)
	if !validCloseCode(code) {
		return nil, protocolError(fmt.Sprintf("close code %d", code))
	}
	return binary.BigEndian.AppendUint16(nil, code), nil
}

// validCloseCode: the codes a peer may send (RFC 6455 7.4).
func validCloseCode(c uint16) bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}
