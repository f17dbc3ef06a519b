package rooms

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
)

// BenchmarkDeliver: the hub's cost of one event for the order room and
// support (no sockets joined: the encodings and the broadcast itself).
func BenchmarkDeliver(b *testing.B) {
	srv := sockets.New(sockets.Config{Transports: []string{"websocket"}})
	h := NewHub(srv, NewStreams(), nil, slog.New(slog.DiscardHandler))
	e := orders.Event{OrderID: "A-1", Type: orders.TypeMessage, From: orders.FromCustomer, Author: "Ada Lovelace",
		Text: "Could you leave it with the neighbour if I am out?", At: time.Now()}
	b.ReportAllocs()
	for i := range b.N {
		e.Seq = int64(i + 1)
		h.Deliver(e)
	}
}
