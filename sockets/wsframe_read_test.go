package sockets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// clientFrameBytes encodes one client frame, masked as a client must,
// unless unmasked.
func clientFrameBytes(fin bool, op byte, payload []byte, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, mask|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, mask|127), uint64(n))
	}
	if unmasked {
		return append(b, payload...)
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

func TestParseFrame(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	huge := bytes.Repeat([]byte("y"), 70000)
	tests := []struct {
		name    string
		in      []byte
		limit   int64
		want    string // payload
		op      byte
		fin     bool
		partial bool
		code    int // close code of the error; 0: none
	}{
		{name: "text", in: clientFrameBytes(true, opText, []byte("42[\"x\"]"), false), want: `42["x"]`, op: opText, fin: true},
		{name: "empty text", in: clientFrameBytes(true, opText, nil, false), op: opText, fin: true},
		{name: "16-bit length", in: clientFrameBytes(true, opBinary, long, false), want: string(long), op: opBinary, fin: true},
		{name: "64-bit length", in: clientFrameBytes(true, opText, huge, false), limit: 1e6, want: string(huge), op: opText, fin: true},
		{name: "first fragment", in: clientFrameBytes(false, opText, []byte("4a"), false), want: "4a", op: opText},
		{name: "continuation", in: clientFrameBytes(true, opContinuation, []byte("b"), false), want: "b", op: opContinuation, fin: true},
		{name: "ping", in: clientFrameBytes(true, opPing, []byte("hi"), false), want: "hi", op: opPing, fin: true},
		{name: "one byte", in: []byte{0x81}, partial: true},
		{name: "header without length bytes", in: []byte{0x81, 0x80 | 126, 0x01}, partial: true},
		{name: "header without 64-bit length", in: []byte{0x81, 0x80 | 127, 0, 0, 0}, partial: true},
		{name: "payload cut", in: clientFrameBytes(true, opText, []byte("hello"), false)[:8], partial: true},
		{name: "unmasked", in: clientFrameBytes(true, opText, []byte("4x"), true), code: closeProtocolError},
		{name: "reserved bit", in: append([]byte{0xC1}, clientFrameBytes(true, opText, []byte("4x"), false)[1:]...), code: closeProtocolError},
		{name: "unknown opcode", in: clientFrameBytes(true, 0x3, []byte("x"), false), code: closeProtocolError},
		{name: "fragmented ping", in: clientFrameBytes(false, opPing, nil, false), code: closeProtocolError},
		{name: "long close", in: clientFrameBytes(true, opClose, long, false), code: closeProtocolError},
		{name: "over the limit, refused from the header", in: clientFrameBytes(true, opText, long, false)[:4], limit: 299, code: closeTooBig},
		{name: "64-bit length with its top bit", in: []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, code: closeProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1000
			}
			f, n, err := parseFrame(tt.in, limit)
			var fe *frameError
			switch {
			case tt.code != 0:
				if !errors.As(err, &fe) || fe.code != tt.code {
					t.Fatalf("error %v, want close code %d", err, tt.code)
				}
			case err != nil:
				t.Fatal(err)
			case tt.partial:
				if n != 0 {
					t.Fatalf("took %d bytes of a partial frame", n)
				}
			default:
				if n != len(tt.in) || string(f.payload) != tt.want || f.op != tt.op || f.fin != tt.fin {
					t.Fatalf("n=%d op=%d fin=%v payload %q; want n=%d op=%d fin=%v %q",
						n, f.op, f.fin, f.payload, len(tt.in), tt.op, tt.fin, tt.want)
				}
			}
		})
	}
}

func TestCloseReply(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
		bad  bool
	}{
		{in: nil, want: []byte{}},
		{in: []byte{0x03}, bad: true},
		{in: []byte{0x03, 0xE9, 'b', 'y', 'e'}, want: []byte{0x03, 0xE9}}, // 1001: echoed without its reason
		{in: []byte{0x03, 0xED}, bad: true},                               // 1005 may not be sent
		{in: []byte{0x0F, 0xA0}, want: []byte{0x0F, 0xA0}},                // 4000: private use
		{in: []byte{0x13, 0x88}, bad: true},                               // 5000
	}
	for _, tt := range tests {
		got, err := closeReply(tt.in)
		if (err != nil) != tt.bad || !bytes.Equal(got, tt.want) {
			t.Errorf("closeReply(%x) = %x, %v; want %x, bad %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// FuzzParseFrame: any bytes give a frame within them and the limits, a
// partial frame, or a close code; never a panic.
func FuzzParseFrame(f *testing.F) {
	f.Add(clientFrameBytes(true, opText, []byte(`42["order:subscribe",{"orderId":"o-1"}]`), false), int64(1000))
	f.Add(clientFrameBytes(false, opBinary, []byte{1, 2, 3}, false), int64(2))
	f.Add([]byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, int64(1e6))
	f.Fuzz(func(t *testing.T, b []byte, limit int64) {
		if limit < 0 {
			limit = -limit
		}
		in := append([]byte(nil), b...)
		fr, n, err := parseFrame(in, limit)
		var fe *frameError
		switch {
		case err != nil:
			if !errors.As(err, &fe) || (fe.code != closeProtocolError && fe.code != closeTooBig) {
				t.Fatalf("error %v", err)
			}
		case n == 0:
		default:
			if n > len(b) || int64(len(fr.payload)) > limit || n < len(fr.payload)+6 {
				t.Fatalf("n=%d of %d bytes, payload %d, limit %d", n, len(b), len(fr.payload), limit)
			}
			if fr.op >= opClose && (len(fr.payload) > 125 || !fr.fin) {
				t.Fatalf("control frame op %d fin %v of %d bytes", fr.op, fr.fin, len(fr.payload))
			}
		}
	})
}
