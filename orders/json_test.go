package orders

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// plainOrder is Order without its MarshalJSON: encoding/json's reference.
type plainOrder Order

// The contract's event payloads, as encoding/json writes them: the
// reference for Event.AppendJSON.
type statusPayload struct {
	Type    string `json:"type"`
	OrderID string `json:"orderId"`
	Seq     int64  `json:"seq"`
	Status  Status `json:"status"`
	Note    string `json:"note"`
	At      string `json:"at"`
	By      string `json:"by"`
}

type messagePayload struct {
	Type    string `json:"type"`
	OrderID string `json:"orderId"`
	Seq     int64  `json:"seq"`
	From    string `json:"from"`
	Author  string `json:"author"`
	Text    string `json:"text"`
	At      string `json:"at"`
}

func referenceEvent(e Event) ([]byte, error) {
	at := e.At.UTC().Format(time.RFC3339Nano)
	if e.Type == TypeMessage {
		return json.Marshal(messagePayload{e.Type, e.OrderID, e.Seq, e.From, e.Author, e.Text, at})
	}
	return json.Marshal(statusPayload{e.Type, e.OrderID, e.Seq, e.Status, e.Note, at, e.By})
}

// fuzzTime is a time from fuzz input, in a zone of its own.
func fuzzTime(nanos int64, offset int16) time.Time {
	return time.Unix(0, nanos).In(time.FixedZone("", int(offset)*60))
}

func FuzzOrderJSON(f *testing.F) {
	f.Add("ord-1", "Ada <ada@example.com>", "Tea & \"biscuits\"", 2, int64(1250), "EUR", "placed", int64(3),
		int64(1741064767123456789), int16(60), "Sam", true, false)
	f.Add("", "\x00\x1f\u2028\u2029\xff\xfe", "\\/\b\f\n\r\t", -1, int64(-1), "", "out_for_delivery", int64(0),
		int64(0), int16(-720), "", false, true)
	f.Add("é日本", "<script>", "", 0, int64(1<<53+1), "JPY", "x", int64(1<<62),
		int64(-62135596800000000000/10), int16(0), "\u00e9\x80", true, true)
	f.Fuzz(func(t *testing.T, id, customer, item string, qty int, total int64, currency, status string, lastSeq int64,
		nanos int64, offset int16, assignee string, assigned, noItems bool) {
		at := fuzzTime(nanos, offset)
		o := Order{ID: id, Customer: customer, Items: []Item{{Name: item, Qty: qty}, {Name: customer, Qty: -qty}},
			Total: total, Currency: currency, Status: Status(status), LastSeq: lastSeq, CreatedAt: at,
			UpdatedAt: at.Add(time.Duration(qty)), TokenVersion: 7, AwaitingReply: assigned}
		if noItems {
			o.Items = nil
		}
		if assigned {
			o.Assignee = &assignee
			since := at.Add(-time.Second)
			o.AwaitingSince = &since
		}
		got, err := json.Marshal(o)
		want, wantErr := json.Marshal(plainOrder(o))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, encoding/json's %v", err, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("order JSON\n got %s\nwant %s", got, want)
		}
	})
}

func FuzzEventJSON(f *testing.F) {
	f.Add("o1", int64(2), TypeStatus, int64(1741064767123456789), int16(60), "confirmed", "left at the <door> & rang", "ops",
		"", "", "")
	f.Add("o1", int64(3), TypeMessage, int64(0), int16(-90), "", "", "", "customer", "Ada \"A\"", "\u2028hi\xff\x00")
	f.Add("", int64(-1), "other", int64(-1), int16(0), "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, orderID string, seq int64, typ string, nanos int64, offset int16, status, note, by,
		from, author, text string) {
		e := Event{OrderID: orderID, Seq: seq, Type: typ, At: fuzzTime(nanos, offset), Status: Status(status),
			Note: note, By: by, From: from, Author: author, Text: text}
		got, err := e.MarshalJSON() // as is: the hub sends these bytes
		want, wantErr := referenceEvent(e)
		if err != nil || wantErr != nil {
			t.Fatalf("errors: %v, reference %v", err, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event JSON\n got %s\nwant %s", got, want)
		}
	})
}

// An order is encoded as one value by its own MarshalJSON, also inside
// other values (acks, API answers), and reads back as it was.
func TestOrderJSONRoundTrip(t *testing.T) {
	sam := "Sam"
	since := time.Date(2026, 12, 4, 10, 0, 0, 5, time.UTC)
	o := Order{ID: "o1", Customer: "Ada", Items: []Item{{Name: "Tea", Qty: 2}}, Total: 1250, Currency: "EUR",
		Status: Shipped, LastSeq: 4, CreatedAt: since.Add(-time.Hour), UpdatedAt: since, Assignee: &sam,
		AwaitingReply: true, AwaitingSince: &since}
	b, err := json.Marshal(map[string]any{"order": o, "ok": true})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Order Order `json:"order"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Order.ID != o.ID || back.Order.Items[0] != o.Items[0] || *back.Order.Assignee != sam ||
		!back.Order.AwaitingSince.Equal(since) || !back.Order.UpdatedAt.Equal(o.UpdatedAt) {
		t.Fatalf("read back %+v", back.Order)
	}
}
