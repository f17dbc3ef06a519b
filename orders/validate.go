package orders

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the contract. Lengths count Unicode code points.
const (
	MaxIDLen        = 64
	MaxCustomerLen  = 200
	MaxItems        = 100
	MaxItemNameLen  = 200
	MaxTextLen      = 2000
	MaxNoteLen      = 500
	DefaultCurrency = "EUR"
)

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// InvalidError says which input was wrong and why; handlers answer it with
// bad_request.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ValidID reports whether id may name an order.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// NewOrder is the body of POST /api/orders.
type NewOrder struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Items    []Item `json:"items"`
	Total    *int64 `json:"total"`
	Currency string `json:"currency"`
}

// Validate checks n against the contract and returns the order it
// describes, without id when none was given.
func (n NewOrder) Validate() (Order, error) {
	if n.ID != "" && !ValidID(n.ID) {
		return Order{}, invalid("id", "must be 1-64 of A-Z a-z 0-9 _ -")
	}
	customer := strings.TrimSpace(n.Customer)
	if err := checkText("customer", customer, MaxCustomerLen, false); err != nil {
		return Order{}, err
	}
	if len(n.Items) < 1 || len(n.Items) > MaxItems {
		return Order{}, invalid("items", "must hold 1-%d items", MaxItems)
	}
	items := make([]Item, len(n.Items))
	for i, it := range n.Items {
		name := strings.TrimSpace(it.Name)
		if err := checkText(fmt.Sprintf("items[%d].name", i), name, MaxItemNameLen, false); err != nil {
			return Order{}, err
		}
		if it.Qty < 1 {
			return Order{}, invalid(fmt.Sprintf("items[%d].qty", i), "must be a positive integer")
		}
		items[i] = Item{Name: name, Qty: it.Qty}
	}
	if n.Total == nil {
		return Order{}, invalid("total", "is required (integer, minor units)")
	}
	if *n.Total < 0 {
		return Order{}, invalid("total", "must not be negative")
	}
	currency := n.Currency
	if currency == "" {
		currency = DefaultCurrency
	}
	if !currencyPattern.MatchString(currency) {
		return Order{}, invalid("currency", "must be an ISO 4217 code such as EUR")
	}
	return Order{ID: n.ID, Customer: customer, Items: items, Total: *n.Total, Currency: currency, Status: Placed}, nil
}

// CheckMessage validates a chat message's text.
func CheckMessage(text string) (string, error) {
	text = strings.TrimSpace(text)
	return text, checkText("text", text, MaxTextLen, true)
}

// CheckNote validates the optional note of a status change.
func CheckNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return "", nil
	}
	return note, checkText("note", note, MaxNoteLen, true)
}

// checkText requires 1..max code points of valid UTF-8 without control
// characters (newlines and tabs allowed where multiline is true).
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return invalid(field, "is required")
	}
	if n > max {
		return invalid(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}
