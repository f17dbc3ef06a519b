package sockets

import (
	"encoding/json"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

// The decoder refuses a packet with more binary attachments than allowed:
// 1 by default (ordercast's events are JSON), Config.MaxAttachments when
// set (the conformance fixture's 10: the protocol suites send 2).
func TestMaxAttachments(t *testing.T) {
	// The Socket.IO packet, without the Engine.IO MESSAGE type ("4").
	const header = `52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	tests := []struct {
		name  string
		limit int
		ok    bool
	}{
		{"default: 1", 0, false},
		{"raised to 2", 2, true},
		{"Node's 10", 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := strictParser{maxAttachments: uint64(tt.limit)}.NewDecoder()
			err := d.Add(header)
			if (err == nil) != tt.ok {
				t.Fatalf("Add(two attachments) with limit %d: %v, want ok=%v", tt.limit, err, tt.ok)
			}
			if err == nil {
				for _, b := range [][]byte{{1, 2, 3}, {4, 5, 6}} {
					if err := d.Add(b); err != nil {
						t.Fatalf("attachment: %v", err)
					}
				}
			}
		})
	}
}

// Arguments the handlers encoded (json.RawMessage) are written as they
// are, in the library's packet format; anything else goes the library's
// way.
func TestRawArgumentsEncodedAsTheLibrary(t *testing.T) {
	id := uint64(42)
	lib := parser.NewEncoder()
	enc := strictParser{}.NewEncoder()
	for _, tc := range []struct {
		name string
		p    parser.Packet
		ref  []any // the same arguments, decoded, for the library
	}{
		{"ack", parser.Packet{Type: parser.ACK, Nsp: "/", Id: &id,
			Data: []any{json.RawMessage(`{"ok":true,"order":{"id":"o1"}}`)}},
			[]any{map[string]any{"ok": true, "order": map[string]any{"id": "o1"}}}},
		{"ack in a namespace", parser.Packet{Type: parser.ACK, Nsp: "/admin", Id: &id,
			Data: []any{json.RawMessage(`{"a":[1,2]}`), json.RawMessage(`"x"`)}},
			[]any{map[string]any{"a": []any{1, 2}}, "x"}},
		{"event without id", parser.Packet{Type: parser.EVENT, Nsp: "/",
			Data: []any{json.RawMessage(`"order:status"`), json.RawMessage(`{"seq":2}`)}},
			[]any{"order:status", map[string]any{"seq": 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := enc.Encode(&tc.p)
			ref := tc.p
			ref.Data = tc.ref
			want := lib.Encode(&ref)
			if len(got) != 1 || len(want) != 1 || got[0].String() != want[0].String() {
				t.Fatalf("encoded %v, library %v", got, want)
			}
		})
	}
	for _, data := range []any{
		[]any{"order:status", json.RawMessage(`{}`)}, // an event name is a string
		[]any{map[string]any{"ok": true}},
		[]any{json.RawMessage(nil)},
		[]any{},
	} {
		if _, ok := encodeRaw(&parser.Packet{Type: parser.ACK, Id: &id, Data: data}); ok {
			t.Errorf("%v written as raw", data)
		}
	}
}
