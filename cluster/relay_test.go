package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
)

func TestRelayDeliversToOtherNodesOnly(t *testing.T) {
	nodes, recs := startNodes(t, 2)
	e := orders.Event{OrderID: "o-1", Seq: 7, Type: orders.TypeStatus, At: time.Now().UTC(), Status: orders.Shipped, By: "service"}
	nodes[0].Relay(recs[0]).Publish(e)

	eventually(t, "node b gets the event", func() bool {
		d, _, _ := recs[1].snapshot()
		return len(d) == 1
	})
	d, _, _ := recs[1].snapshot()
	if got := d[0]; got.OrderID != e.OrderID || got.Seq != e.Seq || got.Status != e.Status || !got.At.Equal(e.At) {
		t.Fatalf("delivered %+v, want %+v", got, e)
	}
	d0, p0, _ := recs[0].snapshot()
	if len(p0) != 1 || p0[0].Seq != 7 {
		t.Fatalf("the wrapped publisher got %v, want the event once", p0)
	}
	if len(d0) != 0 {
		t.Fatalf("node a delivered its own event to itself: %v", d0)
	}
}

// TestRelayTokenReplaced: a reissued token is cut off here and on the other
// processes (rooms.Hub.DeliverTokenReplaced there).
func TestRelayTokenReplaced(t *testing.T) {
	nodes, recs := startNodes(t, 2)
	nodes[0].Relay(recs[0]).TokenReplaced("o-9", 3)
	eventually(t, "node b hears of the new token", func() bool { return len(recs[1].tokens()) == 1 })
	if got := recs[1].tokens(); !slices.Equal(got, []string{"o-9@3"}) {
		t.Fatalf("node b got %v", got)
	}
	if got := recs[0].tokens(); !slices.Equal(got, []string{"o-9@3"}) {
		t.Fatalf("node a (local) got %v, want it once", got)
	}
}
