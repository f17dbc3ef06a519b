package rooms

import (
	"fmt"
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

// A window whose changes took long to tell stretches the next one to
// presenceShare times that, and a quick one brings it back.
func TestPresenceWindowFollowsItsCost(t *testing.T) {
	clock := time.Unix(0, 0)
	var each time.Duration
	var window time.Duration
	var flush func()
	b := newPresenceBatch(100*time.Millisecond, func(string, presence.Counts) { clock = clock.Add(each) })
	b.now = func() time.Time { return clock }
	b.after = func(d time.Duration, f func()) { window, flush = d, f }

	for i, tc := range []struct {
		want   time.Duration // this window, after the previous flush
		orders int           // changed in it
		each   time.Duration // the time to tell each
	}{
		{want: 100 * time.Millisecond, orders: 1, each: 50 * time.Millisecond},
		{want: presenceShare * 50 * time.Millisecond, orders: 1, each: time.Millisecond},
		{want: 100 * time.Millisecond, orders: 1, each: time.Millisecond},
	} {
		each = tc.each
		for o := range tc.orders {
			b.add(string(rune('a'+o)), presence.Counts{Customers: 1})
		}
		if window != tc.want {
			t.Errorf("window %d: %v, want %v", i, window, tc.want)
		}
		flush()
	}
}

// TestPresenceFlushBudget: a backlog is told a budget at a time, every
// order once with its newest counts, the rest waiting for the next window.
func TestPresenceFlushBudget(t *testing.T) {
	clock := time.Unix(0, 0)
	const each = 2 * time.Millisecond
	var armed []func()
	told := map[string]presence.Counts{}
	var b *presenceBatch
	perFlush := 0
	b = newPresenceBatch(100*time.Millisecond, func(id string, c presence.Counts) {
		if _, again := told[id]; again {
			t.Errorf("order %s told twice", id)
		}
		told[id] = c
		perFlush++
		clock = clock.Add(each)
	})
	b.now = func() time.Time { return clock }
	// A window is cut after the first order that brings it to the budget.
	cut := (presenceFlushBudget + each - 1) / each * each
	b.after = func(d time.Duration, f func()) {
		if len(armed) == 0 && len(told) > 0 && d != presenceShare*cut {
			t.Errorf("a backlog went on after %v, want %v (the share of the cut window's %v)", d, presenceShare*cut, cut)
		}
		armed = append(armed, f)
	}

	const orders = 20
	for o := range orders {
		b.add(fmt.Sprint("o", o), presence.Counts{Customers: 1})
	}
	for flushes := 0; len(armed) > 0; flushes++ {
		if flushes > orders {
			t.Fatal("the backlog is never told")
		}
		f := armed[0]
		armed = armed[1:]
		perFlush = 0
		f()
		if limit := int(presenceFlushBudget/each) + 1; perFlush > limit {
			t.Fatalf("one flush told %d orders (%v), want at most %d", perFlush, time.Duration(perFlush)*each, limit)
		}
		if flushes == 0 {
			// A change while an order waits: the newer counts are told.
			for o := range orders {
				if _, done := told[fmt.Sprint("o", o)]; !done {
					b.add(fmt.Sprint("o", o), presence.Counts{Customers: 2})
					break
				}
			}
		}
	}
	if len(told) != orders {
		t.Fatalf("told %d of %d orders", len(told), orders)
	}
	twos := 0
	for _, c := range told {
		if c.Customers == 2 {
			twos++
		}
	}
	if twos != 1 {
		t.Fatalf("%d orders told with the newer counts, want 1", twos)
	}
}
