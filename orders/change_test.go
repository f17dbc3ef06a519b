package orders

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	total := int64(1250)
	o, first, err := New(NewOrder{Customer: "Ada", Items: []Item{{Name: "Tea", Qty: 2}}, Total: &total}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.ID, "o_") || len(o.ID) != 14 || !ValidID(o.ID) {
		t.Fatalf("generated id %q, want o_ and 12 characters", o.ID)
	}
	if o.Currency != "EUR" || o.Status != Placed || o.LastSeq != 1 || !o.CreatedAt.Equal(now) || o.CreatedAt.Location() != time.UTC {
		t.Fatalf("defaults: %+v", o)
	}
	if first.OrderID != o.ID || first.Seq != 1 || first.Type != TypeStatus || first.Status != Placed || first.By != "service" {
		t.Fatalf("first event: %+v", first)
	}
	if _, _, err := New(NewOrder{Customer: "", Items: nil}, now); err == nil {
		t.Fatal("an invalid order was created")
	}
	if a, b := NewID(), NewID(); a == b {
		t.Fatalf("two generated ids are equal: %s", a)
	}
}

func TestChangeAndApply(t *testing.T) {
	o := Order{ID: "A-1", Customer: "Ada", Status: Placed, LastSeq: 3}
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{Placed, Confirmed, true},
		{Placed, Cancelled, true},
		{Placed, Shipped, false},
		{Delivered, Cancelled, false},
		{Cancelled, Confirmed, false},
	}
	for _, tt := range tests {
		o.Status = tt.from
		e, err := o.Change(tt.to, "note", "Sam")
		if ok := err == nil; ok != tt.ok {
			t.Fatalf("%s -> %s: %v, want ok %v", tt.from, tt.to, err, tt.ok)
		}
		if !tt.ok {
			if !errors.Is(err, ErrInvalidTransition) {
				t.Fatalf("%s -> %s: %v, want ErrInvalidTransition", tt.from, tt.to, err)
			}
			continue
		}
		if e.Seq != 4 || e.OrderID != "A-1" || e.Status != tt.to || e.By != "Sam" || e.Note != "note" {
			t.Fatalf("event %+v", e)
		}
		next := o
		next.Apply(e)
		if next.Status != tt.to || next.LastSeq != 4 || !next.UpdatedAt.Equal(e.At) {
			t.Fatalf("after Apply: %+v", next)
		}
		next.Apply(Event{Seq: 2, Type: TypeStatus, Status: Delivered}) // older: ignored
		if next.Status != tt.to || next.LastSeq != 4 {
			t.Fatalf("an older event changed the order: %+v", next)
		}
	}
}

func TestSay(t *testing.T) {
	o := Order{ID: "A-1", Customer: "Ada", Status: Placed, LastSeq: 1}
	if e := o.Say(FromCustomer, "someone else", "hi"); e.Author != "Ada" || e.From != FromCustomer || e.Seq != 2 {
		t.Fatalf("customer message %+v: the author must be the order's customer", e)
	}
	if e, _ := (PostMessage{From: FromSupport, Author: "Sam", Text: "hello"}).Decide(o); e.Author != "Sam" || e.Status != "" || e.Type != TypeMessage {
		t.Fatalf("support message %+v", e)
	}
	if _, err := (ChangeStatus{To: Shipped}).Decide(o); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("ChangeStatus placed -> shipped: %v", err)
	}
}
