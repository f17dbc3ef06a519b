package handlers

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/presence"
)

// encodedAck returns an ack's arguments with its result already encoded
// (json.RawMessage), which the sockets encoder writes as it is; args as
// they are when the result holds something ackJSON does not write.
func encodedAck(args []any) []any {
	if len(args) != 1 {
		return args
	}
	v, ok := args[0].(map[string]any)
	if !ok {
		return args
	}
	raw, ok := ackJSON(v)
	if !ok {
		return args
	}
	return []any{raw}
}

// ackJSON encodes an ack's result as encoding/json does (keys sorted),
// orders and events by their own appenders, anything else by
// encoding/json; false if a key needs escaping or a value fails.
func ackJSON(v map[string]any) (json.RawMessage, bool) {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(v)) {
		if !plainKey(k) {
			return nil, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		var err error
		switch x := v[k].(type) {
		case orders.Order:
			b, err = x.AppendJSON(b)
		case []orders.Event:
			b, err = appendEvents(b, x)
		case orders.Event:
			b, err = x.AppendJSON(b)
		case presence.Counts:
			b = x.AppendJSON(b)
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case bool:
			b = strconv.AppendBool(b, x)
		default:
			var m []byte
			m, err = json.Marshal(x)
			b = append(b, m...)
		}
		if err != nil {
			return nil, false
		}
	}
	return append(b, '}'), true
}

func appendEvents(b []byte, evs []orders.Event) ([]byte, error) {
	if evs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.AppendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// plainKey: k is written as is inside quotes by encoding/json.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
