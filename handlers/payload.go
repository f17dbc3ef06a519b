package handlers

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// splitAck returns an event's ack callback, its last argument. A missing
// ack is allowed: the event is handled and nothing is answered.
func splitAck(args []any) socket.Ack {
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			return a
		}
	}
	return nil
}

// decodeArgs decodes an event's payload, its first argument, into v with
// the strict rules of HTTP bodies. The parser hands over decoded values:
// a payload that mapDecoder can read as it is skips the round trip
// through JSON, which was 8% of a subscribe (bench/RESULTS.md).
func decodeArgs(args []any, v any) error {
	if len(args) > 0 {
		if m, ok := args[0].(map[string]any); ok {
			if d, ok := v.(mapDecoder); ok && d.fromMap(m) {
				return nil
			}
		}
	}
	return decodePayload(payloadJSON(args), v)
}

// payloadJSON encodes an event's payload back to JSON, or nil if there is
// none (an ack alone is no payload).
func payloadJSON(args []any) json.RawMessage {
	if len(args) == 0 {
		return nil
	}
	if _, ok := args[0].(socket.Ack); ok {
		return nil
	}
	b, err := json.Marshal(args[0])
	if err != nil {
		return nil
	}
	return b
}

// decodePayload decodes an event payload strictly: one object whose fields
// are the event's and have the contract's types.
func decodePayload(p json.RawMessage, v any) error {
	if len(p) == 0 || p[0] != '{' {
		return badRequest("payload must be an object")
	}
	return decodeStrict(bytes.NewReader(p), v)
}

// mapDecoder is a payload that reads itself from the parser's decoded
// object. fromMap says false, leaving its receiver as it was, for
// anything it is not certain the strict decoder takes the same way (which
// then decides, and words the error): a key that is not a field's exact
// name (encoding/json also matches other cases), a value of another type,
// a null where a field is not a pointer, a number that is not whole.
// FuzzPayloadFromMap holds each implementation to that.
type mapDecoder interface {
	fromMap(m map[string]any) bool
}

func (in *subscribeIn) fromMap(m map[string]any) bool {
	var out subscribeIn
	return eachField(m, func(k string, v any) (ok bool) {
		switch k {
		case "orderId":
			out.OrderID, ok = v.(string)
		case "token":
			out.Token, ok = v.(string)
		case "since":
			out.Since, ok = wholeOrNull(v)
		}
		return ok
	}) && set(in, out)
}

func (in *unsubscribeIn) fromMap(m map[string]any) bool { return onlyOrderID(m, &in.OrderID) }

func (in *typingIn) fromMap(m map[string]any) bool { return onlyOrderID(m, &in.OrderID) }

// onlyOrderID reads a payload whose one field is orderId into dst.
func onlyOrderID(m map[string]any, dst *string) bool {
	var id string
	return eachField(m, func(k string, v any) (ok bool) {
		if k == "orderId" {
			id, ok = v.(string)
		}
		return ok
	}) && set(dst, id)
}

func (in *messageIn) fromMap(m map[string]any) bool {
	var out messageIn
	return eachField(m, func(k string, v any) (ok bool) {
		switch k {
		case "orderId":
			out.OrderID, ok = v.(string)
		case "text":
			out.Text, ok = v.(string)
		}
		return ok
	}) && set(in, out)
}

// eachField passes each key and value of m to field, and stops at the
// first it does not take.
func eachField(m map[string]any, field func(k string, v any) bool) bool {
	for k, v := range m {
		if !field(k, v) {
			return false
		}
	}
	return true
}

func set[T any](dst *T, v T) bool {
	*dst = v
	return true
}

// maxExact bounds the whole numbers read as they are: below it, a float64
// is an integer encoding/json writes in plain digits (an int64 field then
// takes it exactly).
const maxExact = 1 << 53

// wholeOrNull reads an optional integer field: null, or a whole number.
func wholeOrNull(v any) (*int64, bool) {
	switch n := v.(type) {
	case nil:
		return nil, true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > maxExact {
			return nil, false
		}
		i := int64(n)
		return &i, true
	}
	return nil, false
}
