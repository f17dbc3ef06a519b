package orders

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// New creates an order from a validated request: its id (generated when
// absent), defaults, and its first event, status placed, as seq 1.
func New(in NewOrder, now time.Time) (Order, Event, error) {
	o, err := in.Validate()
	if err != nil {
		return Order{}, Event{}, err
	}
	if o.ID == "" {
		o.ID = NewID()
	}
	now = now.UTC()
	o.Status, o.LastSeq, o.CreatedAt, o.UpdatedAt = Placed, 1, now, now
	first := Event{OrderID: o.ID, Seq: 1, Type: TypeStatus, Status: Placed, By: "service", At: now}
	return o, first, nil
}

// NewID returns a generated order id, "o_" and 12 random characters.
func NewID() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "o_" + base64.RawURLEncoding.EncodeToString(b)
}

// Change decides a status change to to, by by (the shop's backend,
// "service", or a staff name), as o's next event.
func (o Order) Change(to Status, note, by string) (Event, error) {
	if !CanMove(o.Status, to) {
		return Event{}, fmt.Errorf("%w: %s -> %s", ErrInvalidTransition, o.Status, to)
	}
	return o.next(Event{Type: TypeStatus, Status: to, Note: note, By: by}), nil
}

// Say decides a chat message as o's next event. A customer's author is the
// order's customer; support's is the staff name given.
func (o Order) Say(from, author, text string) Event {
	if from == FromCustomer {
		author = o.Customer
	}
	return o.next(Event{Type: TypeMessage, From: from, Author: author, Text: text})
}

func (o Order) next(e Event) Event {
	e.OrderID, e.Seq, e.At = o.ID, o.LastSeq+1, time.Now().UTC()
	return e
}

// Apply makes o the order as it is once e is stored.
func (o *Order) Apply(e Event) {
	if e.Seq <= o.LastSeq {
		return
	}
	o.LastSeq, o.UpdatedAt = e.Seq, e.At
	switch e.Type {
	case TypeStatus:
		o.Status = e.Status
	case TypeMessage:
		o.applyMessage(e)
	}
}

// A Command is a change asked of one order, decided against its current
// state inside the store's transaction.
type Command interface {
	Decide(current Order) (Event, error)
}

// ChangeStatus asks for a status change.
type ChangeStatus struct {
	To   Status
	Note string
	By   string
}

// Decide implements Command.
func (c ChangeStatus) Decide(o Order) (Event, error) { return o.Change(c.To, c.Note, c.By) }

// PostMessage asks for a chat message.
type PostMessage struct {
	From, Author, Text string
}

// Decide implements Command.
func (c PostMessage) Decide(o Order) (Event, error) { return o.Say(c.From, c.Author, c.Text), nil }
