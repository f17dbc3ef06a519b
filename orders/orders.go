// Package orders holds the domain of ordercast: orders, their events and the
// lifecycle that decides which status may follow which.
package orders

import (
	"encoding/json"
	"time"
)

// Status is a step in an order's lifecycle.
type Status string

// The lifecycle, in order. Cancelled may follow any status before Delivered.
const (
	Placed         Status = "placed"
	Confirmed      Status = "confirmed"
	Packed         Status = "packed"
	Shipped        Status = "shipped"
	OutForDelivery Status = "out_for_delivery"
	Delivered      Status = "delivered"
	Cancelled      Status = "cancelled"
)

// Lifecycle lists the forward path of an order; Cancelled is off to the side.
var lifecycle = [...]Status{Placed, Confirmed, Packed, Shipped, OutForDelivery, Delivered}

// Statuses returns every status in display order, Cancelled last.
func Statuses() []Status {
	return append(lifecycle[:], Cancelled)
}

// ParseStatus validates a status name.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool { return s == Delivered || s == Cancelled }

// Next returns the statuses that may follow s, in the order a UI would offer them.
func (s Status) Next() []Status {
	if s.Final() {
		return nil
	}
	for i, st := range lifecycle {
		if st == s {
			return []Status{lifecycle[i+1], Cancelled}
		}
	}
	return nil
}

// CanMove reports whether the lifecycle allows from -> to.
func CanMove(from, to Status) bool {
	for _, n := range from.Next() {
		if n == to {
			return true
		}
	}
	return false
}

// Item is one line of an order.
type Item struct {
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

// Order is the current state of an order. LastSeq is the seq of its newest event.
type Order struct {
	ID        string    `json:"id"`
	Customer  string    `json:"customer"`
	Items     []Item    `json:"items"`
	Total     int64     `json:"total"`
	Currency  string    `json:"currency"`
	Status    Status    `json:"status"`
	LastSeq   int64     `json:"lastSeq"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// TokenVersion counts the order's tracking tokens (1 for the first;
	// each reissue adds one). Never sent: the store fills it where access
	// is checked (OrderWithTokenHash), so that what used a replaced token
	// can be told apart on every process.
	TokenVersion int64 `json:"-"`

	// Assignee is the staff name handling the order, nil when nobody is
	// (desk.go). It is kept on the order, not as an event: events are what
	// clients number by seq, and an assignment is not one of them.
	Assignee *string `json:"assignee"`
	// AwaitingReply and AwaitingSince are derived from the chat messages by
	// Apply (desk.go): true, and the time of the first customer message
	// that support has not answered yet; false and nil otherwise.
	AwaitingReply bool       `json:"awaitingReply"`
	AwaitingSince *time.Time `json:"awaitingSince"`
}

// Event types, which are also the Socket.IO and SSE event names.
const (
	TypeStatus  = "order:status"
	TypeMessage = "order:message"
)

// Message senders.
const (
	FromCustomer = "customer"
	FromSupport  = "support"
)

// Event is one change to an order: a status change or a chat message. Seq
// numbers the events of one order 1, 2, 3 … without gaps.
type Event struct {
	OrderID string
	Seq     int64
	Type    string
	At      time.Time

	// Status changes.
	Status Status
	Note   string
	By     string

	// Chat messages.
	From   string
	Author string
	Text   string
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *Event) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type    string    `json:"type"`
		OrderID string    `json:"orderId"`
		Seq     int64     `json:"seq"`
		Status  Status    `json:"status"`
		Note    string    `json:"note"`
		By      string    `json:"by"`
		From    string    `json:"from"`
		Author  string    `json:"author"`
		Text    string    `json:"text"`
		At      time.Time `json:"at"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = Event{OrderID: raw.OrderID, Seq: raw.Seq, Type: raw.Type, At: raw.At,
		Status: raw.Status, Note: raw.Note, By: raw.By, From: raw.From, Author: raw.Author, Text: raw.Text}
	return nil
}
