package sockets

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/vmihailenco/msgpack/v5"
)

// Defect 12: TestPlainJSONSurvivesMsgpack checks what other processes receive: the Redis
// adapter msgpack-encodes emit arguments, and the contract's JSON payload
// must come out on the other side.
func TestPlainJSONSurvivesMsgpack(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890000000, time.UTC)
	tests := []struct {
		name string
		in   any
		want map[string]any
	}{
		{"status", orders.Event{OrderID: "A-1", Seq: 2, Type: orders.TypeStatus, At: at, Status: orders.Confirmed, By: "service"},
			map[string]any{"type": "order:status", "orderId": "A-1", "seq": int64(2), "status": "confirmed", "note": "", "at": "2025-03-04T05:06:07.89Z", "by": "service"}},
		{"message", orders.Event{OrderID: "A-1", Seq: 3, Type: orders.TypeMessage, At: at, From: "customer", Author: "Zoë", Text: "🍕 <b>"},
			map[string]any{"type": "order:message", "orderId": "A-1", "seq": int64(3), "from": "customer", "author": "Zoë", "text": "🍕 <b>", "at": "2025-03-04T05:06:07.89Z"}},
		{"created", map[string]any{"order": orders.Order{ID: "B", Customer: "Al", Items: []orders.Item{{Name: "Tea", Qty: 2}}, Total: 1250, Currency: "EUR", Status: orders.Placed, LastSeq: 1, CreatedAt: at, UpdatedAt: at}},
			map[string]any{"order": map[string]any{"id": "B", "customer": "Al", "items": []any{map[string]any{"name": "Tea", "qty": int64(2)}},
				"total": int64(1250), "currency": "EUR", "status": "placed", "lastSeq": int64(1), "createdAt": "2025-03-04T05:06:07.89Z", "updatedAt": "2025-03-04T05:06:07.89Z",
				"assignee": nil, "awaitingReply": false, "awaitingSince": nil}}},
		{"fractions stay floats", map[string]float64{"p50": 1.5}, map[string]any{"p50": 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := plainJSON(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := msgpack.Marshal(plain)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			d := msgpack.NewDecoder(bytes.NewReader(b))
			d.UseLooseInterfaceDecoding(true) // ints as int64, like a JS number
			if err := d.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("after msgpack:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestEmitLocalEncodesOnce: one emit to several rooms is one packet
// encoded, and a json.RawMessage payload goes through as it is.
func TestEmitLocalEncodesOnce(t *testing.T) {
	s := New(Config{Transports: []string{"websocket"}})
	for _, rooms := range [][]string{{"order-A"}, {"order-A", "support"}, {"order-A", "support", "admin"}} {
		before := s.Encodes()
		if err := s.EmitLocal("order:status", json.RawMessage(`{"seq":1}`), rooms...); err != nil {
			t.Fatal(err)
		}
		if err := s.Emit("order:status", json.RawMessage(`{"seq":1}`), rooms...); err != nil {
			t.Fatal(err)
		}
		if n := s.Encodes() - before; n != 2 {
			t.Fatalf("%d rooms: %d packets encoded for two emits, want 2", len(rooms), n)
		}
	}
}
