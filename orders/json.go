package orders

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The contract's JSON for orders and events, written by hand: an order is
// encoded for every subscribe ack and API answer, and encoding/json's
// reflection was most of a subscribe's encoding cost (bench/RESULTS.md).
// The bytes are encoding/json's for the same values (FuzzOrderJSON,
// FuzzEventJSON compare them).

// MarshalJSON writes the order as encoding/json writes its tagged fields.
func (o Order) MarshalJSON() ([]byte, error) {
	return o.AppendJSON(make([]byte, 0, 256))
}

// AppendJSON appends the order's JSON to b.
func (o Order) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, o.ID)
	b = append(b, `,"customer":`...)
	b = appendString(b, o.Customer)
	b = append(b, `,"items":`...)
	if o.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, it := range o.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, it.Name)
			b = append(b, `,"qty":`...)
			b = strconv.AppendInt(b, int64(it.Qty), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, o.Total, 10)
	b = append(b, `,"currency":`...)
	b = appendString(b, o.Currency)
	b = append(b, `,"status":`...)
	b = appendString(b, string(o.Status))
	b = append(b, `,"lastSeq":`...)
	b = strconv.AppendInt(b, o.LastSeq, 10)
	b = append(b, `,"createdAt":`...)
	if b, err = appendTime(b, o.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updatedAt":`...)
	if b, err = appendTime(b, o.UpdatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"assignee":`...)
	if o.Assignee == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *o.Assignee)
	}
	b = append(b, `,"awaitingReply":`...)
	b = strconv.AppendBool(b, o.AwaitingReply)
	b = append(b, `,"awaitingSince":`...)
	if o.AwaitingSince == nil {
		b = append(b, "null"...)
	} else if b, err = appendTime(b, *o.AwaitingSince); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// MarshalJSON writes the contract's payload for the event's type, plus
// "type"; its time in UTC.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 192))
}

// AppendJSON appends the event's JSON to b.
func (e Event) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"orderId":`...)
	b = appendString(b, e.OrderID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	if e.Type == TypeMessage {
		b = append(b, `,"from":`...)
		b = appendString(b, e.From)
		b = append(b, `,"author":`...)
		b = appendString(b, e.Author)
		b = append(b, `,"text":`...)
		b = appendString(b, e.Text)
		b = append(b, `,"at":"`...)
		b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, `"}`...), nil
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(e.Status))
	b = append(b, `,"note":`...)
	b = appendString(b, e.Note)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","by":`...)
	b = appendString(b, e.By)
	return append(b, '}'), nil
}

// appendTime writes t as time.Time's MarshalJSON does (which refuses a
// year outside 0–9999).
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
