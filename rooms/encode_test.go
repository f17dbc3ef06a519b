package rooms

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
)

// TestOneEncodingPerBroadcast: an event is encoded to JSON once, whatever
// the rooms and streams it goes to: the hub encodes it, the library builds
// one packet for the order's room and support together (counted by the
// server's encoder), and every SSE stream gets the same bytes.
func TestOneEncodingPerBroadcast(t *testing.T) {
	srv := sockets.New(sockets.Config{Transports: []string{"websocket"}})
	streams := NewStreams()
	h := NewHub(srv, streams, nil, slog.New(slog.DiscardHandler))
	var encoded []json.RawMessage
	h.encode = func(e orders.Event) (json.RawMessage, error) {
		b, err := encodeEvent(e)
		encoded = append(encoded, b)
		return b, err
	}
	var listeners []*Listener
	for range 3 {
		l, stop := streams.Listen("A-1")
		defer stop()
		listeners = append(listeners, l)
	}

	for seq := int64(1); seq <= 4; seq++ {
		before := srv.Encodes()
		e := orders.Event{OrderID: "A-1", Seq: seq, Type: orders.TypeStatus, Status: orders.Placed, At: time.Now()}
		h.Deliver(e)
		if n := len(encoded); n != int(seq) {
			t.Fatalf("event %d: encoded %d times by the hub in all, want once per event", seq, n)
		}
		if n := srv.Encodes() - before; n != 1 {
			t.Fatalf("event %d: the library encoded %d packets for the order room and support, want 1", seq, n)
		}
		want := encoded[seq-1]
		for i, l := range listeners {
			select {
			case d := <-l.C:
				if d.Seq != seq || len(d.JSON) == 0 || &d.JSON[0] != &want[0] {
					t.Fatalf("stream %d got seq %d with JSON %q, want the hub's bytes for seq %d", i, d.Seq, d.JSON, seq)
				}
			default:
				t.Fatalf("stream %d got nothing", i)
			}
		}
	}
}
