package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/presence"
)

// An ack's result reads as encoding/json writes it; what ackJSON does not
// know is left to the library.
func TestAckJSONIsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123, time.UTC)
	sam := "Sam <s&m>"
	o := orders.Order{ID: "o1", Customer: "Ada \"A\"", Items: []orders.Item{{Name: "Tea", Qty: 2}}, Total: 1250,
		Currency: "EUR", Status: orders.Shipped, LastSeq: 3, CreatedAt: at, UpdatedAt: at, Assignee: &sam}
	evs := []orders.Event{
		{OrderID: "o1", Seq: 2, Type: orders.TypeStatus, At: at, Status: orders.Confirmed, By: "ops"},
		{OrderID: "o1", Seq: 3, Type: orders.TypeMessage, At: at, From: orders.FromCustomer, Author: "Ada", Text: "hi\u2028"},
	}
	for _, tc := range []struct {
		name string
		v    map[string]any
	}{
		{"subscribe", map[string]any{"ok": true, "order": o, "events": evs, "presence": presence.Counts{Customers: 1, Staff: 2}, "supportOnline": 3}},
		{"no events", map[string]any{"ok": true, "order": orders.Order{}, "events": []orders.Event{}}},
		{"nil events", map[string]any{"ok": true, "events": []orders.Event(nil)}},
		{"message", map[string]any{"ok": true, "event": evs[1]}},
		{"error", map[string]any{"ok": false, "error": toError(badRequest("since: must not be negative"))}},
		{"empty", map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ackJSON(tc.v)
			want, err := json.Marshal(tc.v)
			if !ok || err != nil || string(got) != string(want) {
				t.Fatalf("ackJSON %s (%v)\nencoding/json %s (%v)", got, ok, want, err)
			}
		})
	}
	for _, v := range []map[string]any{
		{"needs \"escaping\"": true},
		{"ok": make(chan int)}, // encoding/json refuses it
	} {
		if _, ok := ackJSON(v); ok {
			t.Errorf("%v encoded", v)
		}
		if args := encodedAck([]any{v}); args[0] == nil {
			t.Errorf("%v lost", v)
		} else if _, raw := args[0].(json.RawMessage); raw {
			t.Errorf("%v encoded raw", v)
		}
	}
}
