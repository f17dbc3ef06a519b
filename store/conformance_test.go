package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordercast/ordercast/internal/testenv"
	"github.com/ordercast/ordercast/orders"
)

// storeUnderTest is the method set both backends share.
type storeUnderTest = Store

var (
	_ storeUnderTest = (*SQLite)(nil)
	_ storeUnderTest = (*Postgres)(nil)
)

// newDB makes an empty database for one test and returns a function that
// opens a store instance on it; calling it twice gives two independent
// instances (as two processes would have). Instances are closed, and the
// database removed, when the test ends.
type newDB func(t *testing.T) (open func() storeUnderTest)

func TestSQLiteConformance(t *testing.T) { runConformance(t, sqliteDB) }

func TestPostgresConformance(t *testing.T) { runConformance(t, postgresDB(postgresURL(t))) }

// sqliteDB is a newDB of SQLite files, opened without the lock, as
// several processes would where flock is missing (TestSQLiteOneProcess
// checks the lock).
func sqliteDB(t *testing.T) func() storeUnderTest {
	// A directory that doesn't exist yet, with URI metacharacters.
	path := filepath.Join(t.TempDir(), "new dir?#%", "ordercast.db")
	return func() storeUnderTest { return sharedSQLite(t, path) }
}

// postgresDB is a newDB of PostgreSQL schemas on the server at base.
func postgresDB(base string) newDB {
	return func(t *testing.T) func() storeUnderTest {
		u := postgresSchema(t, base)
		return func() storeUnderTest {
			s, err := OpenPostgres(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	}
}

// TestSQLiteOpenPath checks the file is created exactly at path, in WAL mode.
func TestSQLiteOpenPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%20d", "x.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %s: %v", path, err)
	}
	var mode string
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, bad := range []string{"", ":memory:"} {
		if _, err := OpenSQLite(t.Context(), bad); err == nil {
			t.Errorf("OpenSQLite(%q) succeeded", bad)
		}
	}
}

// TestPostgresSearchPath checks the tables land in the schema named in the URL.
func TestPostgresSearchPath(t *testing.T) {
	base := postgresURL(t)
	u := postgresSchema(t, base)
	s, err := OpenPostgres(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	parsed, _ := url.Parse(u)
	schema := parsed.Query().Get("search_path")

	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = $1 AND table_name IN ('orders', 'events', 'schema_migrations')`, schema).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("schema %s has %d of the 3 tables", schema, n)
	}
}

// postgresURL returns the test server's URL, skipping the test when it can't
// be reached, unless on CI, where that is a failure.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ORDERCAST_TEST_DATABASE_URL")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		_ = conn.Close(context.Background())
	}
	testenv.Require(t, err, "PostgreSQL not reachable (set ORDERCAST_TEST_DATABASE_URL)")
	return u
}

// postgresSchema creates a schema dropped when t ends and returns base with
// search_path set to it.
func postgresSchema(t testing.TB, base string) string {
	t.Helper()
	schema := "oc_test_" + strings.ToLower(rand.Text()[:12])
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// nasty is text that breaks naive SQL, HTML or encoding handling.
const nasty = `Robert'); DROP TABLE orders;-- "q" \ % _ <script>alert('x')</script> &amp; Zoë 日本語 🍕 ` + "\t\r\n" + `ünïcødé`

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

func newTestOrder(id string, at time.Time) orders.Order {
	return orders.Order{
		ID:        id,
		Customer:  "Ada " + id,
		Items:     []orders.Item{{Name: "Widget", Qty: 2}, {Name: "Gadget", Qty: 1}},
		Total:     4599,
		Currency:  "EUR",
		Status:    orders.Placed,
		CreatedAt: at,
		UpdatedAt: at,
	}
}

func placedEvent(at time.Time) orders.Event {
	return orders.Event{Type: orders.TypeStatus, Status: orders.Placed, Note: "order placed", By: "service", At: at}
}

func create(t testing.TB, s storeUnderTest, id string, at time.Time) orders.Order {
	t.Helper()
	o, _, err := s.CreateOrder(t.Context(), newTestOrder(id, at), []byte("hash-"+id), placedEvent(at))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// message builds a chat message event.
// decide is a Command from a function, for the tests' own rules.
type decide func(orders.Order) (orders.Event, error)

func (d decide) Decide(o orders.Order) (orders.Event, error) { return d(o) }

func message(text string) decide {
	return func(orders.Order) (orders.Event, error) {
		return orders.Event{Type: orders.TypeMessage, From: orders.FromCustomer, Author: "Ada", Text: text, At: time.Now()}, nil
	}
}

// moveTo builds a status change, refusing what the lifecycle forbids.
func moveTo(st orders.Status) decide {
	return func(cur orders.Order) (orders.Event, error) {
		if !orders.CanMove(cur.Status, st) {
			return orders.Event{}, fmt.Errorf("%s -> %s: %w", cur.Status, st, orders.ErrInvalidTransition)
		}
		return orders.Event{Type: orders.TypeStatus, Status: st, Note: "moved", By: "staff", At: time.Now()}, nil
	}
}

func equalOrder(t *testing.T, what string, got, want orders.Order) {
	t.Helper()
	if got.ID != want.ID || got.Customer != want.Customer || !slices.Equal(got.Items, want.Items) ||
		got.Total != want.Total || got.Currency != want.Currency || got.Status != want.Status ||
		got.LastSeq != want.LastSeq || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Fatalf("%s: times not in UTC: %v, %v", what, got.CreatedAt, got.UpdatedAt)
	}
}

func equalEvent(t *testing.T, what string, got, want orders.Event) {
	t.Helper()
	at, wantAt := got.At, want.At
	got.At, want.At = time.Time{}, time.Time{}
	if got != want || !at.Equal(wantAt) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	if at.Location() != time.UTC {
		t.Fatalf("%s: time not in UTC: %v", what, at)
	}
}

func seqs(evs []orders.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func oneTo(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func ids(list []orders.Order) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.ID
	}
	return out
}

// concurrentAppends runs workers goroutines per store, each appending n
// messages to order id, and checks the returned seqs are distinct.
func concurrentAppends(t *testing.T, stores []storeUnderTest, id string, workers, n int) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen = map[int64]bool{}
		wg   sync.WaitGroup
	)
	errs := make(chan error, len(stores)*workers)
	for si, s := range stores {
		for w := range workers {
			wg.Go(func() {
				for i := range n {
					ev, o, err := s.Append(t.Context(), id, message(fmt.Sprintf("s%d w%d #%d", si, w, i)))
					if err != nil {
						errs <- err
						return
					}
					if o.LastSeq != ev.Seq {
						errs <- fmt.Errorf("order LastSeq %d after appending seq %d", o.LastSeq, ev.Seq)
						return
					}
					mu.Lock()
					dup := seen[ev.Seq]
					seen[ev.Seq] = true
					mu.Unlock()
					if dup {
						errs <- fmt.Errorf("seq %d handed out twice", ev.Seq)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	total := int64(len(stores)*workers*n) + 1
	evs, err := stores[0].Events(t.Context(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(evs); !slices.Equal(got, oneTo(total)) {
		t.Fatalf("seqs after concurrent appends: %d events, want 1..%d without gaps: %v", len(got), total, got)
	}
	o, err := stores[0].GetOrder(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if o.LastSeq != total {
		t.Fatalf("LastSeq = %d, want %d", o.LastSeq, total)
	}
}

// conformanceCase is one case of the suite, run on a fresh database.
type conformanceCase struct {
	name string
	run  func(t *testing.T, open func() storeUnderTest)
}

func runConformance(t *testing.T, db newDB) {
	tests := []conformanceCase{
		{"create and get round trip", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			ctx := t.Context()
			in := newTestOrder("ord_1-A", t0)
			in.Customer = nasty
			in.Items = []orders.Item{{Name: nasty, Qty: 3}, {Name: "<b>bold</b>", Qty: 1}}
			in.Currency = "JPY"
			in.Total = 1<<53 + 1 // beyond float64 precision
			in.UpdatedAt = t0.Add(time.Second)
			hash := []byte{0, 1, 2, 0xff, 0, 'x'}
			first := placedEvent(t0.Add(2 * time.Second))
			first.Note, first.By = nasty, nasty

			o, ev, err := s.CreateOrder(ctx, in, hash, first)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			want.LastSeq = 1
			want.CreatedAt = t0.UTC().Truncate(time.Microsecond)
			want.UpdatedAt = in.UpdatedAt.UTC().Truncate(time.Microsecond)
			equalOrder(t, "CreateOrder", o, want)
			wantEv := first
			wantEv.OrderID, wantEv.Seq, wantEv.At = in.ID, 1, first.At.UTC().Truncate(time.Microsecond)
			equalEvent(t, "CreateOrder event", ev, wantEv)

			got, err := s.GetOrder(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "GetOrder", got, want)
			evs, err := s.Events(ctx, in.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("Events = %+v, want the first event", evs)
			}
			equalEvent(t, "Events", evs[0], wantEv)
			_, h, err := s.OrderWithTokenHash(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(h, hash) {
				t.Fatalf("TokenHash = %x, want %x", h, hash)
			}
		}},
		{"zero times default to now", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			before := time.Now().Add(-time.Second)
			in := newTestOrder("o", time.Time{})
			in.Items = nil
			o, ev, err := s.CreateOrder(t.Context(), in, nil, placedEvent(time.Time{}))
			if err != nil {
				t.Fatal(err)
			}
			if o.CreatedAt.Before(before) || !o.UpdatedAt.Equal(o.CreatedAt) || !ev.At.Equal(o.CreatedAt) {
				t.Fatalf("times not defaulted: order %+v, event %+v", o, ev)
			}
			if o.Items == nil {
				t.Fatal("nil items returned; want an empty slice")
			}
			got, err := s.GetOrder(t.Context(), "o")
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "GetOrder", got, o)
			if _, h, err := s.OrderWithTokenHash(t.Context(), "o"); err != nil || len(h) != 0 {
				t.Fatalf("TokenHash = %x, %v; want empty", h, err)
			}
		}},
		{"order with token hash", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			ctx := t.Context()
			create(t, s, "a", t0)
			create(t, s, "b", t0)
			if _, _, err := s.Append(ctx, "a", message("hi")); err != nil {
				t.Fatal(err)
			}
			// A second instance sees the first one's writes.
			other := open()
			for _, id := range []string{"a", "b"} {
				want, err := s.GetOrder(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				got, h, err := other.OrderWithTokenHash(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				equalOrder(t, "OrderWithTokenHash", got, want)
				if string(h) != "hash-"+id {
					t.Fatalf("OrderWithTokenHash(%q) hash = %q, want %q", id, h, "hash-"+id)
				}
			}
			if _, _, err := s.CreateOrder(ctx, newTestOrder("nohash", t0), nil, placedEvent(t0)); err != nil {
				t.Fatal(err)
			}
			if _, h, err := s.OrderWithTokenHash(ctx, "nohash"); err != nil || len(h) != 0 {
				t.Fatalf("OrderWithTokenHash(nohash) = %x, %v; want empty", h, err)
			}
		}},
		{"duplicate id", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			orig := create(t, s, "dup", t0)
			other := newTestOrder("dup", t0.Add(time.Hour))
			other.Customer = "someone else"
			_, _, err := s.CreateOrder(t.Context(), other, []byte("other"), placedEvent(t0))
			if !errors.Is(err, orders.ErrDuplicate) {
				t.Fatalf("second CreateOrder: %v, want ErrDuplicate", err)
			}
			got, err := s.GetOrder(t.Context(), "dup")
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "original after duplicate", got, orig)
			if _, h, _ := s.OrderWithTokenHash(t.Context(), "dup"); string(h) != "hash-dup" {
				t.Fatalf("token hash overwritten: %q", h)
			}
			if evs, _ := s.Events(t.Context(), "dup", 0); len(evs) != 1 {
				t.Fatalf("%d events after duplicate, want 1", len(evs))
			}
		}},
		{"not found", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			ctx := t.Context()
			create(t, s, "exists", t0)
			for _, id := range []string{"missing", "", "exists' OR '1'='1", "EXISTS"} {
				if _, err := s.GetOrder(ctx, id); !errors.Is(err, orders.ErrNotFound) {
					t.Errorf("GetOrder(%q): %v, want ErrNotFound", id, err)
				}
				if _, _, err := s.OrderWithTokenHash(ctx, id); !errors.Is(err, orders.ErrNotFound) {
					t.Errorf("OrderWithTokenHash(%q): %v, want ErrNotFound", id, err)
				}
				called := false
				_, _, err := s.Append(ctx, id, decide(func(orders.Order) (orders.Event, error) {
					called = true
					return orders.Event{Type: orders.TypeMessage, Text: "x"}, nil
				}))
				if !errors.Is(err, orders.ErrNotFound) || called {
					t.Errorf("Append(%q): %v (build called: %v), want ErrNotFound without build", id, err, called)
				}
				if evs, err := s.Events(ctx, id, 0); err != nil || len(evs) != 0 {
					t.Errorf("Events(%q) = %v, %v; want none", id, evs, err)
				}
			}
		}},
		{"append assigns consecutive seqs", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			ctx := t.Context()
			created := create(t, s, "a", t0)
			steps := []struct {
				build      func(orders.Order) (orders.Event, error)
				wantStatus orders.Status
			}{
				{moveTo(orders.Confirmed), orders.Confirmed},
				{message(nasty), orders.Confirmed},
				{moveTo(orders.Packed), orders.Packed},
				{message("<img src=x onerror=alert(1)>"), orders.Packed},
				{moveTo(orders.Cancelled), orders.Cancelled},
			}
			prev := created
			for i, step := range steps {
				var seen orders.Order
				ev, o, err := s.Append(ctx, "a", decide(func(cur orders.Order) (orders.Event, error) {
					seen = cur
					return step.build(cur)
				}))
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				equalOrder(t, "order passed to build", seen, prev)
				want := int64(i + 2)
				if ev.Seq != want || ev.OrderID != "a" || o.LastSeq != want || o.Status != step.wantStatus {
					t.Fatalf("step %d: event %+v, order %+v; want seq %d, status %s", i, ev, o, want, step.wantStatus)
				}
				if !o.UpdatedAt.Equal(ev.At) || !o.CreatedAt.Equal(created.CreatedAt) {
					t.Fatalf("step %d: times not updated as expected: order %+v, event at %v", i, o, ev.At)
				}
				got, err := s.GetOrder(ctx, "a")
				if err != nil {
					t.Fatal(err)
				}
				equalOrder(t, "GetOrder after append", got, o)
				evs, err := s.Events(ctx, "a", ev.Seq-1)
				if err != nil || len(evs) != 1 {
					t.Fatalf("Events since %d = %v, %v", ev.Seq-1, evs, err)
				}
				equalEvent(t, "stored event", evs[0], ev)
				prev = o
			}
			evs, err := s.Events(ctx, "a", 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs(evs), oneTo(6)) {
				t.Fatalf("seqs %v, want 1..6", seqs(evs))
			}
			if evs[2].Text != nasty || evs[2].From != orders.FromCustomer || evs[2].Type != orders.TypeMessage {
				t.Fatalf("message changed in storage: %+v", evs[2])
			}
		}},
		{"build error rolls back", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			ctx := t.Context()
			before := create(t, s, "b", t0)
			boom := errors.New("boom")
			for _, build := range []decide{
				moveTo(orders.Shipped), // placed -> shipped is not allowed
				func(orders.Order) (orders.Event, error) { return orders.Event{}, boom },
				func(orders.Order) (orders.Event, error) { return orders.Event{Type: "order:bogus"}, nil },
			} {
				if _, _, err := s.Append(ctx, "b", build); err == nil {
					t.Fatal("Append succeeded; want the build error")
				}
			}
			_, _, err := s.Append(ctx, "b", moveTo(orders.Delivered))
			if !errors.Is(err, orders.ErrInvalidTransition) {
				t.Fatalf("Append: %v, want ErrInvalidTransition", err)
			}
			_, _, err = s.Append(ctx, "b", decide(func(orders.Order) (orders.Event, error) { return orders.Event{}, boom }))
			if !errors.Is(err, boom) {
				t.Fatalf("Append: %v, want boom", err)
			}
			got, err := s.GetOrder(ctx, "b")
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "order after failed builds", got, before)
			if evs, _ := s.Events(ctx, "b", 0); len(evs) != 1 {
				t.Fatalf("%d events after failed builds, want 1", len(evs))
			}
			ev, _, err := s.Append(ctx, "b", moveTo(orders.Confirmed))
			if err != nil || ev.Seq != 2 {
				t.Fatalf("Append after failures: seq %d, %v; want 2", ev.Seq, err)
			}
		}},
		{"events since", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			create(t, s, "e", t0)
			create(t, s, "other", t0)
			for i := range 4 {
				if _, _, err := s.Append(t.Context(), "e", message(fmt.Sprint("m", i))); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := s.Append(t.Context(), "other", message("elsewhere")); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				since int64
				want  []int64
			}{
				{-1, []int64{1, 2, 3, 4, 5}},
				{0, []int64{1, 2, 3, 4, 5}},
				{2, []int64{3, 4, 5}},
				{4, []int64{5}},
				{5, []int64{}},
				{99, []int64{}},
			} {
				evs, err := s.Events(t.Context(), "e", tc.since)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(seqs(evs), tc.want) {
					t.Errorf("Events since %d: %v, want %v", tc.since, seqs(evs), tc.want)
				}
				for _, e := range evs {
					if e.OrderID != "e" {
						t.Errorf("event of order %q in the events of e", e.OrderID)
					}
				}
			}
		}},
		{"list pages newest first", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			var want []string // newest first
			for i := range 7 {
				// Creation times out of order: listing follows insertion.
				id := fmt.Sprintf("o%d", i)
				create(t, s, id, t0.Add(time.Duration(i%3)*time.Hour))
				want = append([]string{id}, want...)
			}
			for _, limit := range []int{1, 2, 3, 6, 7, 8, 100} {
				var got []string
				before := ""
				for pages := 0; ; pages++ {
					if pages > 7 {
						t.Fatalf("limit %d: too many pages", limit)
					}
					list, next, err := s.ListOrders(t.Context(), ListQuery{Limit: limit, Before: before})
					if err != nil {
						t.Fatal(err)
					}
					if len(list) > limit || (next != "" && len(list) != limit) {
						t.Fatalf("limit %d: page of %d, next %q", limit, len(list), next)
					}
					got = append(got, ids(list)...)
					if next == "" {
						break
					}
					before = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("limit %d: listed %v, want %v", limit, got, want)
				}
			}
			list, _, err := s.ListOrders(t.Context(), ListQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(list), want) {
				t.Errorf("default limit listed %v, want %v", ids(list), want)
			}
			got, err := s.GetOrder(t.Context(), "o3")
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "listed order", list[slices.Index(ids(list), "o3")], got)
		}},
		{"list status filter", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			var confirmed []string
			for i := range 6 {
				id := fmt.Sprintf("s%d", i)
				create(t, s, id, t0)
				if i%2 == 0 {
					if _, _, err := s.Append(t.Context(), id, moveTo(orders.Confirmed)); err != nil {
						t.Fatal(err)
					}
					confirmed = append([]string{id}, confirmed...)
				}
			}
			var got []string
			before := ""
			for {
				list, next, err := s.ListOrders(t.Context(), ListQuery{Status: orders.Confirmed, Limit: 2, Before: before})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range list {
					if o.Status != orders.Confirmed {
						t.Fatalf("order %s has status %s", o.ID, o.Status)
					}
				}
				got = append(got, ids(list)...)
				if next == "" {
					break
				}
				before = next
			}
			if !slices.Equal(got, confirmed) {
				t.Fatalf("confirmed: %v, want %v", got, confirmed)
			}
			for _, st := range []orders.Status{orders.Shipped, "placed' OR '1'='1"} {
				list, next, err := s.ListOrders(t.Context(), ListQuery{Status: st})
				if err != nil || len(list) != 0 || next != "" {
					t.Fatalf("status %q: %v, %q, %v; want nothing", st, ids(list), next, err)
				}
			}
		}},
		{"bad cursor", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			create(t, s, "c", t0)
			for _, c := range []string{"!!!", "abc", "MTIz", encodeCursor(0), encodeCursor(-5), encodeCursor(0)[:4], "o1:5", " ", "eDox"} {
				_, _, err := s.ListOrders(t.Context(), ListQuery{Before: c})
				if !errors.Is(err, ErrBadCursor) {
					t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
				}
			}
		}},
		{"concurrent appends", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			create(t, s, "hot", t0)
			concurrentAppends(t, []storeUnderTest{s}, "hot", 8, 25)
		}},
		{"concurrent appends from two instances", func(t *testing.T, open func() storeUnderTest) {
			a, b := open(), open()
			create(t, a, "hot", t0)
			concurrentAppends(t, []storeUnderTest{a, b}, "hot", 4, 25)
		}},
		{"data persists across reopen", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			create(t, s, "p1", t0)
			create(t, s, "p2", t0)
			ev, o, err := s.Append(t.Context(), "p1", message(nasty))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = open()
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetOrder(t.Context(), "p1")
			if err != nil {
				t.Fatal(err)
			}
			equalOrder(t, "reopened order", got, o)
			evs, err := s.Events(t.Context(), "p1", 1)
			if err != nil || len(evs) != 1 {
				t.Fatalf("reopened events: %v, %v", evs, err)
			}
			equalEvent(t, "reopened event", evs[0], ev)
			if _, h, err := s.OrderWithTokenHash(t.Context(), "p2"); err != nil || string(h) != "hash-p2" {
				t.Fatalf("reopened token hash: %q, %v", h, err)
			}
			list, _, err := s.ListOrders(t.Context(), ListQuery{})
			if err != nil || !slices.Equal(ids(list), []string{"p2", "p1"}) {
				t.Fatalf("reopened list: %v, %v", ids(list), err)
			}
			// Numbering and list order carry on after the reopen.
			if ev, _, err := s.Append(t.Context(), "p1", message("again")); err != nil || ev.Seq != 3 {
				t.Fatalf("append after reopen: seq %d, %v; want 3", ev.Seq, err)
			}
			create(t, s, "p3", t0)
			if list, _, _ := s.ListOrders(t.Context(), ListQuery{Limit: 1}); len(list) != 1 || list[0].ID != "p3" {
				t.Fatalf("newest after reopen: %v, want p3", ids(list))
			}
		}},
		{"ping", func(t *testing.T, open func() storeUnderTest) {
			if err := open().Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	tests = append(tests, idempotencyCases()...)
	tests = append(tests, groupCommitCases...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, db(t))
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, pos := range []int64{1, 42, 1 << 62} {
		got, err := decodeCursor(encodeCursor(pos))
		if err != nil || got != pos {
			t.Errorf("decode(encode(%d)) = %d, %v", pos, got, err)
		}
	}
}
