package rooms

import (
	"io"
	"log/slog"
	"testing"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
)

func TestDeliverAndResyncListeners(t *testing.T) {
	streams := NewStreams()
	h := NewHub(sockets.New(sockets.Config{Transports: []string{"websocket"}}), streams, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l, stop := streams.Listen("A-1")
	defer stop()
	other, stopOther := streams.Listen("B-2")
	defer stopOther()

	e := orders.Event{OrderID: "A-1", Seq: 4, Type: orders.TypeStatus}
	h.Deliver(e)
	select {
	case got := <-l.C:
		if got.Seq != 4 {
			t.Fatalf("delivered seq %d, want 4", got.Seq)
		}
	default:
		t.Fatal("Deliver did not reach the order's listener")
	}
	if len(other.C) != 0 {
		t.Fatal("Deliver reached another order's listener")
	}

	streams.ResyncListeners()
	for _, x := range []*Listener{l, other} {
		select {
		case <-x.Lagged:
		default:
			t.Fatal("ResyncListeners left a listener in place")
		}
	}
	if n := streams.Len(); n != 0 {
		t.Fatalf("%d listeners after ResyncListeners, want 0", n)
	}
	stop() // after a resync, stopping is still safe
}
