package orders

import (
	"encoding/json"
	"strings"
	"time"
)

// applyMessage keeps AwaitingReply and AwaitingSince in step with the chat:
// a customer message starts the wait (unless one already runs, whose start
// stays), a support message ends it.
func (o *Order) applyMessage(e Event) {
	switch e.From {
	case FromCustomer:
		if o.AwaitingSince == nil {
			at := e.At
			o.AwaitingSince = &at
		}
	case FromSupport:
		o.AwaitingSince = nil
	}
	o.AwaitingReply = o.AwaitingSince != nil
}

// SetAwaitingSince restores the derived wait of a stored order (the store
// keeps only its start; AwaitingReply follows from it).
func (o *Order) SetAwaitingSince(since *time.Time) {
	o.AwaitingSince = since
	o.AwaitingReply = since != nil
}

// Assignment is a decision about who handles an order: Assignee nil means
// released. It is what order:assigned carries.
type Assignment struct {
	OrderID  string
	Assignee *string
	By       string
	At       time.Time
}

// MarshalJSON writes the contract's payload {orderId, assignee, by, at}.
func (a Assignment) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		OrderID  string  `json:"orderId"`
		Assignee *string `json:"assignee"`
		By       string  `json:"by"`
		At       string  `json:"at"`
	}{a.OrderID, a.Assignee, a.By, a.At.UTC().Format(time.RFC3339Nano)})
}

// AssignTo is what order:assign asks for: Take (no assignee given: the
// caller takes it), or Name (a staff name to give it to; nil releases).
type AssignTo struct {
	Take bool
	Name *string
}

// Assign decides who handles order orderID when by asks for to. Any staff
// member may take, give or release any order, also one someone else holds:
// the desk is a team, and the decision is broadcast so nobody is surprised.
func Assign(orderID string, to AssignTo, by string, now time.Time) (Assignment, error) {
	a := Assignment{OrderID: orderID, By: by, At: now.UTC()}
	switch {
	case to.Take:
		name := by
		a.Assignee = &name
	case to.Name != nil:
		name := strings.TrimSpace(*to.Name)
		if err := checkText("assignee", name, MaxCustomerLen, false); err != nil {
			return Assignment{}, err
		}
		a.Assignee = &name
	}
	return a, nil
}

// Typing is a live signal that someone writes in an order's chat: never
// stored, without seq. A customer's author is the order's customer.
type Typing struct {
	OrderID string `json:"orderId"`
	From    string `json:"from"`
	Author  string `json:"author"`
}

// Typing decides the signal of from (FromCustomer or FromSupport) writing
// in o's chat, as Say names a message's author.
func (o Order) Typing(from, author string) Typing {
	if from == FromCustomer {
		author = o.Customer
	}
	return Typing{OrderID: o.ID, From: from, Author: author}
}
