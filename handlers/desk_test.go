package handlers

import (
	"testing"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/presence"
)

type quietNotifier struct{}

func (quietNotifier) Presence(string, presence.Counts) {}
func (quietNotifier) SupportOnline(int)                {}

func newTestSession(book Presence, staff bool) *session {
	s := &session{subs: map[string]bool{}, typed: map[string]time.Time{}, book: book}
	if staff {
		s.staff = &auth.Staff{Name: "Sam", Role: "support"}
	}
	return s
}

// TestSessionCounts: a socket is counted once per order from its
// connection to its disconnect, whatever the order of calls.
func TestSessionCounts(t *testing.T) {
	book := presence.New(quietNotifier{}, nil)
	cust, staff := newTestSession(book, false), newTestSession(book, true)
	cust.subs["r"] = true // recovered: counted when the connection completes
	if c := cust.join("a"); c != (presence.Counts{}) {
		t.Fatalf("counted before the connection completed: %+v", c)
	}
	cust.start()
	staff.start()
	cust.start() // once only
	if book.Total("a") != (presence.Counts{Customers: 1}) || book.Total("r") != (presence.Counts{Customers: 1}) || book.Online() != 1 {
		t.Fatalf("after start: a=%+v r=%+v online=%d", book.Total("a"), book.Total("r"), book.Online())
	}
	if c := staff.join("a"); c != (presence.Counts{Customers: 1, Staff: 1}) {
		t.Fatalf("join = %+v", c)
	}
	if c := staff.join("a"); c != (presence.Counts{Customers: 1, Staff: 1}) {
		t.Fatalf("second join of the same order = %+v", c)
	}
	staff.leave("a")
	staff.leave("a")     // not subscribed any more: nothing
	staff.leave("never") // never subscribed: nothing
	if book.Total("a") != (presence.Counts{Customers: 1}) {
		t.Fatalf("after leave: %+v", book.Total("a"))
	}
	cust.close()
	cust.close()
	staff.close()
	if book.Total("a") != (presence.Counts{}) || book.Total("r") != (presence.Counts{}) || book.Online() != 0 {
		t.Fatalf("after close: a=%+v r=%+v online=%d", book.Total("a"), book.Total("r"), book.Online())
	}
	cust.join("b") // a late event of a closed socket
	cust.leave("a")
	if book.Total("b") != (presence.Counts{}) || book.Total("a") != (presence.Counts{}) {
		t.Fatal("a closed session changed the counts")
	}
	if !cust.subscribed("r") {
		t.Fatal("close dropped the subscriptions a recovery needs")
	}
}

func TestTypingThrottle(t *testing.T) {
	s := newTestSession(presence.New(quietNotifier{}, nil), false)
	t0 := time.Now()
	steps := []struct {
		order string
		at    time.Duration
		want  bool
	}{
		{"a", 0, true},
		{"a", 500 * time.Millisecond, false},
		{"b", 500 * time.Millisecond, true}, // per order
		{"a", 999 * time.Millisecond, false},
		{"a", TypingInterval, true},
		{"a", TypingInterval + time.Millisecond, false},
	}
	for i, st := range steps {
		if got := s.mayType(st.order, t0.Add(st.at)); got != st.want {
			t.Fatalf("step %d (%s at %v): mayType = %v, want %v", i, st.order, st.at, got, st.want)
		}
	}
	s.forgetTyping("b") // a failed relay does not count
	if !s.mayType("b", t0.Add(600*time.Millisecond)) {
		t.Fatal("a forgotten signal still throttles")
	}
}
