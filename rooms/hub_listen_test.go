package rooms

import (
	"io"
	"log/slog"
	"testing"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
)

func TestDeliverAndResyncListeners(t *testing.T) {
	h := NewHub(sockets.New(sockets.Config{Transports: []string{"websocket"}}), nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	l, stop := h.Listen("A-1")
	defer stop()
	other, stopOther := h.Listen("B-2")
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

	h.ResyncListeners()
	for _, x := range []*Listener{l, other} {
		select {
		case <-x.Lagged:
		default:
			t.Fatal("ResyncListeners left a listener in place")
		}
	}
	if n := h.Listeners(); n != 0 {
		t.Fatalf("%d listeners after ResyncListeners, want 0", n)
	}
	stop() // after a resync, stopping is still safe
}
