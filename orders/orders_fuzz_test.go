package orders

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// validText is the contract of every stored free text: trimmed, 1..max
// code points of valid UTF-8, no control characters (newline and tab
// allowed in multiline text).
func validText(s string, max int, multiline bool) bool {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < 1 || n > max || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return false
		}
	}
	return true
}

// FuzzValidateNewOrder: Validate either names the wrong field or returns
// an order that keeps every rule of the contract, and validating that
// order again gives it back unchanged.
func FuzzValidateNewOrder(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, customer, itemName string, qty int, nItems uint8, totalMinor int64, noTotal bool, currency string) {
		in := NewOrder{ID: id, Customer: customer, Currency: currency}
		for range int(nItems) % (MaxItems + 3) {
			in.Items = append(in.Items, Item{Name: itemName, Qty: qty})
		}
		if !noTotal {
			in.Total = &totalMinor
		}
		o, err := in.Validate()
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field == "" || inv.Reason == "" {
				t.Fatalf("error %v is not an InvalidError naming a field", err)
			}
			if strings.Contains(err.Error(), customer) && len(customer) > 20 {
				t.Fatal("the error echoes the input")
			}
			return
		}
		if (o.ID != "" && !ValidID(o.ID)) || o.ID != id {
			t.Fatalf("id %q accepted", o.ID)
		}
		if !validText(o.Customer, MaxCustomerLen, false) {
			t.Fatalf("customer %q accepted", o.Customer)
		}
		if len(o.Items) < 1 || len(o.Items) > MaxItems {
			t.Fatalf("%d items accepted", len(o.Items))
		}
		for _, it := range o.Items {
			if !validText(it.Name, MaxItemNameLen, false) || it.Qty < 1 {
				t.Fatalf("item %+v accepted", it)
			}
		}
		if o.Total < 0 || o.Status != Placed || len(o.Currency) != 3 || strings.ToUpper(o.Currency) != o.Currency {
			t.Fatalf("order %+v accepted", o)
		}
		again, err := NewOrder{ID: o.ID, Customer: o.Customer, Items: o.Items, Total: &o.Total, Currency: o.Currency}.Validate()
		if err != nil || again.Customer != o.Customer || again.Currency != o.Currency || len(again.Items) != len(o.Items) {
			t.Fatalf("validating a valid order again: %+v, %v", again, err)
		}
	})
}

// FuzzCheckText: chat messages and status notes are refused or come back
// trimmed and within the rules; a note may be empty.
func FuzzCheckText(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		if msg, err := CheckMessage(text); err == nil {
			if !validText(msg, MaxTextLen, true) || msg != strings.TrimSpace(text) {
				t.Fatalf("message %q accepted as %q", text, msg)
			}
		} else if errors.As(err, new(*InvalidError)) == false {
			t.Fatalf("CheckMessage error %v", err)
		}
		if note, err := CheckNote(text); err == nil {
			if note != "" && !validText(note, MaxNoteLen, true) {
				t.Fatalf("note %q accepted as %q", text, note)
			}
			if note == "" && strings.TrimSpace(text) != "" {
				t.Fatalf("note %q dropped", text)
			}
		}
	})
}
