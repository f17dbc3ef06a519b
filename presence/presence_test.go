package presence

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// notes records what a Book notifies, as "order=customers/staff" and
// "online=n".
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) Presence(id string, c Counts) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, fmt.Sprintf("%s=%d/%d", id, c.Customers, c.Staff))
}

func (n *notes) SupportOnline(count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, fmt.Sprintf("online=%d", count))
}

func (n *notes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	got := n.got
	n.got = nil
	return got
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLocalCounts(t *testing.T) {
	n := &notes{}
	b := New(n, nil)
	if c := b.Join("a", false); c != (Counts{1, 0}) {
		t.Fatalf("Join = %+v", c)
	}
	if c := b.Join("a", true); c != (Counts{1, 1}) {
		t.Fatalf("Join staff = %+v", c)
	}
	b.Leave("a", false)
	b.Leave("a", true)
	if got, want := n.take(), []string{"a=1/0", "a=1/1", "a=0/1", "a=0/0"}; !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
	if b.StaffOnline(1) != 1 || b.StaffOnline(1) != 2 || b.StaffOnline(-1) != 1 {
		t.Fatal("staff online counts wrong")
	}
	if got, want := n.take(), []string{"online=1", "online=2", "online=1"}; !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
	if len(b.local) != 0 || len(b.shown) != 0 {
		t.Fatalf("zero counts kept: %v, %v", b.local, b.shown)
	}
}

// TestTwoProcesses passes two books' snapshots to each other as cluster
// does, and checks the totals, the expiry of a silent process and the
// immediate drop of one that leaves.
func TestTwoProcesses(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	na, nb := &notes{}, &notes{}
	a, b := New(na, clk.now), New(nb, clk.now)
	sync := func() {
		if s, ok := a.Flush(); ok {
			b.Heard("A", s)
		}
		if s, ok := b.Flush(); ok {
			a.Heard("B", s)
		}
	}
	a.Join("o", false)
	a.StaffOnline(1)
	b.Join("o", true)
	b.Join("p", false)
	sync()
	for _, bk := range []*Book{a, b} {
		if bk.Total("o") != (Counts{1, 1}) || bk.Total("p") != (Counts{1, 0}) || bk.Online() != 1 {
			t.Fatalf("totals o=%+v p=%+v online=%d", bk.Total("o"), bk.Total("p"), bk.Online())
		}
	}
	if got := nb.take(); !slices.Contains(got, "o=1/1") || !slices.Contains(got, "online=1") {
		t.Fatalf("B notified %v", got)
	}
	if _, ok := a.Flush(); ok {
		t.Fatal("Flush with nothing changed returned a snapshot")
	}
	// A partial snapshot with a zero count removes the order.
	b.Leave("p", false)
	sync()
	if a.Total("p") != (Counts{}) || len(a.peers["B"].orders) != 1 {
		t.Fatalf("after leaving p: %+v, %v", a.Total("p"), a.peers["B"].orders)
	}
	// A full snapshot replaces everything the peer counted.
	b.Join("q", false)
	b.dirty = map[string]bool{} // lost partial: the heartbeat repairs it
	a.Heard("B", b.Full())
	if a.Total("q") != (Counts{1, 0}) {
		t.Fatalf("full snapshot: q = %+v", a.Total("q"))
	}

	// B goes silent: A drops it after TTL, not before.
	na.take()
	clk.t = clk.t.Add(TTL)
	a.Expire()
	if !a.Known("B") {
		t.Fatal("B dropped before TTL passed")
	}
	clk.t = clk.t.Add(time.Millisecond)
	a.Expire()
	if a.Known("B") || a.Total("o") != (Counts{1, 0}) {
		t.Fatalf("B not dropped after TTL: o = %+v", a.Total("o"))
	}
	if got := na.take(); !slices.Contains(got, "o=1/0") || !slices.Contains(got, "q=0/0") {
		t.Fatalf("A notified %v on expiry", got)
	}

	// A leaving is dropped at once.
	b.Heard("A", a.Full())
	if b.Online() != 1 {
		t.Fatalf("online = %d", b.Online())
	}
	b.Left("A")
	if b.Online() != 0 || b.Total("o") != (Counts{0, 1}) {
		t.Fatalf("after A left: online %d, o %+v", b.Online(), b.Total("o"))
	}
	// Nonsense counts from the channel are ignored.
	b.Heard("X", Snapshot{Staff: -5, Orders: map[string]Counts{"o": {-1, 0}}})
	if b.Online() != 0 || b.Total("o") != (Counts{0, 1}) {
		t.Fatalf("negative counts taken: online %d, o %+v", b.Online(), b.Total("o"))
	}
}

func TestConcurrentJoins(t *testing.T) {
	b := New(&notes{}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				b.Join("o", i%2 == 0)
				b.Leave("o", i%2 == 0)
				_, _ = b.Flush()
			}
		}()
	}
	wg.Wait()
	if b.Total("o") != (Counts{}) {
		t.Fatalf("total = %+v after equal joins and leaves", b.Total("o"))
	}
}

// hookNotes runs hook on the first notification, as a change made by
// another goroutine while the notifier emits.
type hookNotes struct {
	notes
	hook func()
}

func (n *hookNotes) Presence(id string, c Counts) {
	n.notes.Presence(id, c)
	if h := n.hook; h != nil {
		n.hook = nil
		h()
	}
}

// TestNotifyOutsideTheLock: the notifier runs without the book's lock (a
// change made meanwhile neither deadlocks nor is lost), and changes that
// pile up while it runs are sent as the newest total, after the older one.
func TestNotifyOutsideTheLock(t *testing.T) {
	n := &hookNotes{}
	b := New(n, nil)
	n.hook = func() {
		b.Join("o", false) // queued: the running notification takes it
		b.Join("o", true)
		if c := b.Total("o"); c != (Counts{2, 1}) {
			t.Errorf("total inside the notifier = %+v", c)
		}
	}
	b.Join("o", false)
	if got, want := n.take(), []string{"o=1/0", "o=2/1"}; !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
}

// Counts are written as encoding/json writes them.
func TestCountsJSON(t *testing.T) {
	for _, c := range []Counts{{}, {Customers: 1}, {Customers: 12, Staff: 3}, {Customers: -1, Staff: 1 << 40}} {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON([]byte("x")); string(got) != "x"+string(want) {
			t.Errorf("%+v: %s, want %s", c, got[1:], want)
		}
	}
}
