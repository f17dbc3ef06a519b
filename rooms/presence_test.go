package rooms

import (
	"testing"
	"time"

	"github.com/ordercast/ordercast/presence"
)

type told struct {
	id string
	c  presence.Counts
}

// TestPresenceBatch: a burst of changes within a window is told once, with
// the newest counts, per order; a change after the window is told again.
func TestPresenceBatch(t *testing.T) {
	out := make(chan told, 2000)
	b := newPresenceBatch(20*time.Millisecond, func(id string, c presence.Counts) { out <- told{id, c} })
	next := func() told {
		t.Helper()
		select {
		case x := <-out:
			return x
		case <-time.After(5 * time.Second):
			t.Fatal("no presence emitted within 5 s")
			return told{}
		}
	}
	for i := 1; i <= 1000; i++ {
		b.add("busy", presence.Counts{Customers: i})
	}
	b.add("quiet", presence.Counts{Staff: 1})
	got := map[string]presence.Counts{}
	for range 2 {
		x := next()
		got[x.id] = x.c
	}
	if got["busy"] != (presence.Counts{Customers: 1000}) || got["quiet"] != (presence.Counts{Staff: 1}) {
		t.Fatalf("first window told %v; want busy 1000 customers, quiet 1 staff", got)
	}
	select {
	case x := <-out:
		t.Fatalf("a burst was told more than once per order: extra %v", x)
	default:
	}
	b.add("busy", presence.Counts{Customers: 999})
	if x := next(); x != (told{"busy", presence.Counts{Customers: 999}}) {
		t.Fatalf("next window told %v", x)
	}
}
