package orders

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to Status
		want     bool
	}{
		{Placed, Confirmed, true},
		{Confirmed, Packed, true},
		{Packed, Shipped, true},
		{Shipped, OutForDelivery, true},
		{OutForDelivery, Delivered, true},
		{Placed, Cancelled, true},
		{Confirmed, Cancelled, true},
		{Packed, Cancelled, true},
		{Shipped, Cancelled, true},
		{OutForDelivery, Cancelled, true},
		{Placed, Packed, false},         // skipping a step
		{Confirmed, Placed, false},      // going back
		{Delivered, Cancelled, false},   // too late to cancel
		{Cancelled, Confirmed, false},   // final
		{Delivered, Delivered, false},   // no self-loop
		{Placed, Placed, false},         // no self-loop
		{Shipped, Delivered, false},     // skipping out_for_delivery
		{Placed, Status("lost"), false}, // unknown target
		{Status("lost"), Confirmed, false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestNextAndFinal(t *testing.T) {
	tests := []struct {
		s     Status
		next  []Status
		final bool
	}{
		{Placed, []Status{Confirmed, Cancelled}, false},
		{OutForDelivery, []Status{Delivered, Cancelled}, false},
		{Delivered, nil, true},
		{Cancelled, nil, true},
	}
	for _, tt := range tests {
		if got := tt.s.Next(); strings.Join(statusStrings(got), ",") != strings.Join(statusStrings(tt.next), ",") {
			t.Errorf("%s.Next() = %v, want %v", tt.s, got, tt.next)
		}
		if tt.s.Final() != tt.final {
			t.Errorf("%s.Final() = %v", tt.s, tt.s.Final())
		}
	}
}

func statusStrings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func TestParseStatus(t *testing.T) {
	for _, s := range Statuses() {
		if got, ok := ParseStatus(string(s)); !ok || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "PLACED", "shipped ", "lost", "out-for-delivery"} {
		if _, ok := ParseStatus(s); ok {
			t.Errorf("ParseStatus(%q) accepted", s)
		}
	}
}

func total(n int64) *int64 { return &n }

func TestNewOrderValidate(t *testing.T) {
	ok := NewOrder{Customer: "Ada", Items: []Item{{Name: "Tea", Qty: 2}}, Total: total(1250)}
	tests := []struct {
		name  string
		edit  func(*NewOrder)
		field string // "" = valid
	}{
		{"valid", func(*NewOrder) {}, ""},
		{"valid id", func(n *NewOrder) { n.ID = "A_1-b" }, ""},
		{"64-char id", func(n *NewOrder) { n.ID = strings.Repeat("a", 64) }, ""},
		{"65-char id", func(n *NewOrder) { n.ID = strings.Repeat("a", 65) }, "id"},
		{"id with space", func(n *NewOrder) { n.ID = "a b" }, "id"},
		{"id with slash", func(n *NewOrder) { n.ID = "a/b" }, "id"},
		{"id with quote", func(n *NewOrder) { n.ID = "a';--" }, "id"},
		{"no customer", func(n *NewOrder) { n.Customer = "  " }, "customer"},
		{"200 code points", func(n *NewOrder) { n.Customer = strings.Repeat("é", 200) }, ""},
		{"201 code points", func(n *NewOrder) { n.Customer = strings.Repeat("é", 201) }, "customer"},
		{"control char", func(n *NewOrder) { n.Customer = "A\x00da" }, "customer"},
		{"no items", func(n *NewOrder) { n.Items = nil }, "items"},
		{"101 items", func(n *NewOrder) { n.Items = make([]Item, 101) }, "items"},
		{"zero qty", func(n *NewOrder) { n.Items = []Item{{Name: "Tea", Qty: 0}} }, "items[0].qty"},
		{"item without name", func(n *NewOrder) { n.Items = []Item{{Qty: 1}} }, "items[0].name"},
		{"no total", func(n *NewOrder) { n.Total = nil }, "total"},
		{"negative total", func(n *NewOrder) { n.Total = total(-1) }, "total"},
		{"currency", func(n *NewOrder) { n.Currency = "usd" }, "currency"},
		{"currency ok", func(n *NewOrder) { n.Currency = "USD" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := ok
			n.Items = append([]Item(nil), ok.Items...)
			tt.edit(&n)
			o, err := n.Validate()
			var inv *InvalidError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.field == "":
				if o.Status != Placed || o.Currency == "" {
					t.Fatalf("order %+v", o)
				}
			case !errors.As(err, &inv) || inv.Field != tt.field:
				t.Fatalf("err = %v, want an InvalidError on %q", err, tt.field)
			}
		})
	}
}

func TestCheckMessage(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"hello", true},
		{"line one\nline two\ttab", true},
		{strings.Repeat("🙂", 2000), true},
		{strings.Repeat("🙂", 2001), false},
		{"", false},
		{"   ", false},
		{"bell\a", false},
		{"\x1b[31mred", false},
		{string([]byte{0xff, 0xfe}), false},
		{"<script>alert(1)</script>", true}, // stored as text, rendered as text
	}
	for _, tt := range tests {
		if _, err := CheckMessage(tt.text); (err == nil) != tt.ok {
			t.Errorf("CheckMessage(%.20q) err = %v, want ok=%v", tt.text, err, tt.ok)
		}
	}
}

func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		e    Event
		want string
	}{
		{Event{OrderID: "A", Seq: 2, Type: TypeStatus, Status: Shipped, Note: "", By: "service", At: at},
			`{"type":"order:status","orderId":"A","seq":2,"status":"shipped","note":"","at":"2026-11-22T10:00:00Z","by":"service"}`},
		{Event{OrderID: "A", Seq: 3, Type: TypeMessage, From: FromCustomer, Author: "Ada", Text: "hi", At: at},
			`{"type":"order:message","orderId":"A","seq":3,"from":"customer","author":"Ada","text":"hi","at":"2026-11-22T10:00:00Z"}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.e)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal = %s, %v\nwant %s", b, err, tt.want)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil || back != tt.e {
			t.Errorf("round trip = %+v, %v", back, err)
		}
	}
}
