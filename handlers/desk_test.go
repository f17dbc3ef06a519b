package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/presence"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
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

// TestPresenceFollowsTheRoom: a socket made to leave an order's room by the
// server (as a revoked token does) is uncounted, like one that
// unsubscribes or disconnects.
func TestPresenceFollowsTheRoom(t *testing.T) {
	var sio *sockets.Server
	srv := newSecServerWith(t, Config{}, nil, func(s *sockets.Server) { sio = s })
	rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, []byte(orderBody("P"))))
	var created struct {
		TrackingToken string `json:"trackingToken"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	subscribe := func(s *rawSocket, id int) presence.Counts {
		t.Helper()
		if err := s.send(fmt.Sprintf(`42%d["order:subscribe",{"orderId":"P","token":%q}]`, id, created.TrackingToken)); err != nil {
			t.Fatal(err)
		}
		raw, err := s.waitAck(id, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var ack []struct {
			OK       bool            `json:"ok"`
			Presence presence.Counts `json:"presence"`
		}
		if err := json.Unmarshal([]byte(raw), &ack); err != nil || len(ack) != 1 || !ack[0].OK {
			t.Fatalf("subscribe ack %s: %v", raw, err)
		}
		return ack[0].Presence
	}
	first := connectRaw(t, srv.URL, nil)
	defer first.close()
	if c := subscribe(first, 1); c != (presence.Counts{Customers: 1}) {
		t.Fatalf("first subscriber counted %+v", c)
	}
	// The server takes the first socket out of the room (token revoked).
	sio.IO.Local().In(rooms.Order("P")).SocketsLeave(rooms.Order("P"))
	second := connectRaw(t, srv.URL, nil)
	defer second.close()
	if c := subscribe(second, 2); c != (presence.Counts{Customers: 1}) {
		t.Fatalf("after the first left the room, the second subscriber counted %+v, want 1 customer", c)
	}
}

func TestListAwaitingQuery(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.create(t, "w1")
	ts.create(t, "w2")
	plain := ts.do(t, "GET", "/api/orders?limit=1", testAPIKey, "")
	next, _ := plain.body["next"].(string)
	if next == "" {
		t.Fatalf("no cursor after the first of two orders: %s", plain.raw)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"awaiting=reply", http.StatusOK},
		{"awaiting=reply&status=placed&limit=5", http.StatusOK},
		{"awaiting=", http.StatusOK}, // absent
		{"awaiting=yes", http.StatusBadRequest},
		{"awaiting=REPLY", http.StatusBadRequest},
		{"awaiting=reply&before=" + next, http.StatusBadRequest}, // the plain list's cursor
		{"awaiting=reply&limit=101", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r := ts.do(t, "GET", "/api/orders?"+tt.query, testAPIKey, "")
		if r.status != tt.want || (tt.want == http.StatusBadRequest && r.code() != CodeBadRequest) {
			t.Errorf("%s: %d %s, want %d", tt.query, r.status, r.raw, tt.want)
		}
		if tt.query == "awaiting=reply" && !strings.Contains(r.raw, `"orders":[]`) {
			t.Errorf("no order awaits a reply, got %s", r.raw)
		}
	}
}
