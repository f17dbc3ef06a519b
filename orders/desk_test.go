package orders

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestApplyDerivesAwaitingReply(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	cust := func(s int) Event { return Event{Type: TypeMessage, From: FromCustomer, At: at(s)} }
	supp := func(s int) Event { return Event{Type: TypeMessage, From: FromSupport, At: at(s)} }
	status := func(s int) Event { return Event{Type: TypeStatus, Status: Confirmed, At: at(s)} }
	tests := []struct {
		name   string
		events []Event
		since  *time.Time // nil: not awaiting
	}{
		{"no messages", []Event{status(1)}, nil},
		{"one customer message", []Event{cust(1)}, ptr(at(1))},
		{"the first unanswered one counts", []Event{cust(1), cust(2), status(3), cust(4)}, ptr(at(1))},
		{"answered", []Event{cust(1), cust(2), supp(3)}, nil},
		{"asked again after an answer", []Event{cust(1), supp(2), cust(3), cust(4)}, ptr(at(3))},
		{"support writes first", []Event{supp(1)}, nil},
		{"a status change answers nothing", []Event{cust(1), status(2)}, ptr(at(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Order{ID: "a", LastSeq: 1}
			for i, e := range tt.events {
				e.Seq = int64(i + 2)
				o.Apply(e)
			}
			if o.AwaitingReply != (tt.since != nil) {
				t.Fatalf("AwaitingReply = %v, want %v", o.AwaitingReply, tt.since != nil)
			}
			if (o.AwaitingSince == nil) != (tt.since == nil) || (tt.since != nil && !o.AwaitingSince.Equal(*tt.since)) {
				t.Fatalf("AwaitingSince = %v, want %v", o.AwaitingSince, tt.since)
			}
		})
	}
}

func TestApplyIgnoresOldMessages(t *testing.T) {
	o := Order{ID: "a", LastSeq: 3}
	o.Apply(Event{Seq: 3, Type: TypeMessage, From: FromCustomer, At: time.Now()})
	if o.AwaitingReply {
		t.Fatal("an event already applied changed the wait")
	}
}

func TestAssign(t *testing.T) {
	now := time.Now()
	name := func(s string) *string { return &s }
	tests := []struct {
		name string
		to   AssignTo
		want *string
		err  bool
	}{
		{"take", AssignTo{Take: true}, name("Sam"), false},
		{"give", AssignTo{Name: name(" Kim ")}, name("Kim"), false},
		{"release", AssignTo{}, nil, false},
		{"blank name", AssignTo{Name: name("  ")}, nil, true},
		{"too long", AssignTo{Name: name(strings.Repeat("x", MaxCustomerLen+1))}, nil, true},
		{"control character", AssignTo{Name: name("a\nb")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Assign("o1", tt.to, "Sam", now)
			var inv *InvalidError
			if tt.err {
				if !errors.As(err, &inv) {
					t.Fatalf("err = %v, want an InvalidError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (a.Assignee == nil) != (tt.want == nil) || (tt.want != nil && *a.Assignee != *tt.want) {
				t.Fatalf("assignee = %v, want %v", a.Assignee, tt.want)
			}
			if a.By != "Sam" || a.OrderID != "o1" {
				t.Fatalf("assignment = %+v", a)
			}
		})
	}
}

func TestAssignmentJSON(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b, _ := json.Marshal(Assignment{OrderID: "o1", By: "Sam", At: at})
	if string(b) != `{"orderId":"o1","assignee":null,"by":"Sam","at":"2026-01-02T03:04:05Z"}` {
		t.Fatalf("released: %s", b)
	}
	kim := "Kim"
	b, _ = json.Marshal(Order{ID: "o1", Assignee: &kim, AwaitingReply: true, AwaitingSince: &at})
	for _, want := range []string{`"assignee":"Kim"`, `"awaitingReply":true`, `"awaitingSince":"2026-01-02T03:04:05Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("order JSON %s lacks %s", b, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
