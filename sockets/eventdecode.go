package sockets

import (
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// eventDecoder is the library's Socket.IO decoder with a shorter path for
// the packet clients send most: a text EVENT to "/" in the compact JSON
// that JSON.stringify writes (`42["order:subscribe",{"orderId":…}]`). The
// library decodes each with a new json.Decoder into `any`: 13% of a
// subscribe burst (bench/RESULTS.md). This path makes the same packet
// (same types: string, float64, bool, nil, map[string]any, []any) with a
// third of the allocations, and leaves anything it is not sure of to the
// library, which then decides and words the error: whitespace, escapes,
// invalid UTF-8, deep nesting, trailing bytes, reserved or numeric event
// names, namespaces, binary packets. FuzzEventDecode holds both to the
// same result.
type eventDecoder struct {
	parser.Decoder
	// binary: a binary packet went to the library, whose decoder then
	// waits for its attachments; from then on everything goes there, so
	// that it sees the packets in order.
	binary atomic.Bool
}

func (d *eventDecoder) Add(data any) error {
	if !d.binary.Load() {
		if sb, ok := data.(*types.StringBuffer); ok {
			b := sb.Bytes()
			if p, ok := decodeEvent(b); ok {
				d.Emit("decoded", p)
				return nil
			}
			if len(b) > 0 && (b[0] == '0'+byte(parser.BINARY_EVENT) || b[0] == '0'+byte(parser.BINARY_ACK)) {
				d.binary.Store(true)
			}
		}
	}
	return d.Decoder.Add(data)
}

// eventMaxDepth bounds the nesting this path decodes (recursively); deeper
// payloads go to the library.
const eventMaxDepth = 8

// decodeEvent decodes b as an EVENT packet for "/", with an ack id or
// without, or says false.
func decodeEvent(b []byte) (*parser.Packet, bool) {
	if len(b) < 4 || b[0] != '0'+byte(parser.EVENT) || b[len(b)-1] != ']' || !utf8.Valid(b) {
		return nil, false
	}
	i := 1
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	pid := &struct { // one allocation for the packet and its id
		p  parser.Packet
		id uint64
	}{p: parser.Packet{Type: parser.EVENT, Nsp: "/"}}
	p := &pid.p
	if i > 1 {
		if i > 20 { // up to 19 digits: always a uint64
			return nil, false
		}
		id, err := strconv.ParseUint(string(b[1:i]), 10, 64)
		if err != nil {
			return nil, false
		}
		pid.id = id
		p.Id = &pid.id
	}
	// One string for the payload: every string in it is a substring.
	s := string(b[i:])
	sc := jsonScan{s: s}
	args, ok := sc.array(0, 1) // room for the ack the library appends
	if !ok || sc.i != len(s) || len(args) == 0 {
		return nil, false
	}
	name, ok := args[0].(string)
	if !ok || parser.ReservedEvents.Has(name) {
		return nil, false
	}
	p.Data = args
	return p, true
}

// jsonScan reads compact JSON from s, at i.
type jsonScan struct {
	s string
	i int
}

func (sc *jsonScan) value(depth int) (any, bool) {
	if sc.i >= len(sc.s) {
		return nil, false
	}
	switch c := sc.s[sc.i]; c {
	case '"':
		if v, ok := sc.str(); ok {
			return v, true
		}
	case '{':
		if v, ok := sc.object(depth + 1); ok {
			return v, true
		}
	case '[':
		if v, ok := sc.array(depth+1, 0); ok {
			return v, true
		}
	case 't':
		return true, sc.literal("true")
	case 'f':
		return false, sc.literal("false")
	case 'n':
		return nil, sc.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			if v, ok := sc.number(); ok {
				return v, true
			}
		}
	}
	return nil, false
}

func (sc *jsonScan) literal(text string) bool {
	if len(sc.s)-sc.i < len(text) || sc.s[sc.i:sc.i+len(text)] != text {
		return false
	}
	sc.i += len(text)
	return true
}

// str reads a string without escapes or control characters (the UTF-8 is
// checked once, for the whole packet).
func (sc *jsonScan) str() (string, bool) {
	start := sc.i + 1
	for j := start; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			sc.i = j + 1
			return sc.s[start:j], true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (sc *jsonScan) array(depth, spare int) ([]any, bool) {
	if depth > eventMaxDepth || sc.s[sc.i] != '[' {
		return nil, false
	}
	sc.i++
	out := make([]any, 0, 2+spare)
	if sc.closes(']') {
		return out, true
	}
	for {
		v, ok := sc.value(depth)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if more, ok := sc.more(']'); !ok {
			return nil, false
		} else if !more {
			return out, true
		}
	}
}

func (sc *jsonScan) object(depth int) (map[string]any, bool) {
	if depth > eventMaxDepth {
		return nil, false
	}
	sc.i++
	out := map[string]any{}
	if sc.closes('}') {
		return out, true
	}
	for {
		if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
			return nil, false
		}
		k, ok := sc.str()
		if !ok || !sc.closes(':') {
			return nil, false
		}
		v, ok := sc.value(depth)
		if !ok {
			return nil, false
		}
		out[k] = v // the last of a repeated key wins, as in encoding/json
		if more, ok := sc.more('}'); !ok {
			return nil, false
		} else if !more {
			return out, true
		}
	}
}

// closes reads c if it comes next.
func (sc *jsonScan) closes(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// more reads what follows a member: a comma (more), the container's end
// (not more), or anything else (not ok).
func (sc *jsonScan) more(end byte) (more, ok bool) {
	if sc.closes(',') {
		return true, true
	}
	return false, sc.closes(end)
}

// number reads a JSON number (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?) as a
// float64, as encoding/json decodes one into `any`.
func (sc *jsonScan) number() (float64, bool) {
	s, start := sc.s, sc.i
	i := start
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s[start:i], 64)
	if err != nil {
		return 0, false // out of range: the library's error
	}
	sc.i = i
	return f, true
}
