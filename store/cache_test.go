package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ordercast/ordercast/orders"
)

// The whole conformance suite holds with the cache in front of each
// engine: on SQLite with the file locked (the cache trusts its entries;
// the cases that need a second process on the file skip, as the lock
// refuses one) and shared (it checks them against the file, as with
// PostgreSQL).
func TestSQLiteCacheConformance(t *testing.T) {
	t.Run("sole", func(t *testing.T) {
		runConformance(t, func(t *testing.T) func() storeUnderTest {
			path := filepath.Join(t.TempDir(), "ordercast.db")
			var open *oneProcess
			return func() storeUnderTest {
				if open != nil && !open.closed {
					t.Skip("needs a second process on the file, which its lock refuses; the shared run has it")
				}
				c := NewCache(mustSQLite(t, path), 1000)
				if !c.sole {
					t.Fatal("a cache in front of a locked SQLite file does not trust its entries")
				}
				open = &oneProcess{Cache: c}
				return open
			}
		})
	})
	t.Run("shared", func(t *testing.T) {
		runConformance(t, func(t *testing.T) func() storeUnderTest {
			path := filepath.Join(t.TempDir(), "ordercast.db")
			return func() storeUnderTest { return NewCache(sharedSQLite(t, path), 1000) }
		})
	})
}

// oneProcess is a cache whose Close is seen.
type oneProcess struct {
	*Cache
	closed bool
}

func (p *oneProcess) Close() error {
	p.closed = true
	return p.Cache.Close()
}

func TestPostgresCacheConformance(t *testing.T) {
	base := postgresURL(t)
	runConformance(t, func(t *testing.T) func() storeUnderTest {
		u := postgresSchema(t, base)
		return func() storeUnderTest { return NewCache(openPostgres(t, u), 1000) }
	})
}

// mustSQLite opens the file for this test alone, as the server does.
func mustSQLite(t testing.TB, path string) *SQLite {
	return sqliteFor(t, path, true)
}

// sharedSQLite opens the file without the lock, so that several instances
// share it as several processes would where flock is missing.
func sharedSQLite(t testing.TB, path string) *SQLite {
	return sqliteFor(t, path, false)
}

func sqliteFor(t testing.TB, path string, lock bool) *SQLite {
	s, err := openSQLite(t.Context(), path, lock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openPostgres(t testing.TB, url string) *Postgres {
	s, err := OpenPostgres(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// twoProcesses opens two caches on one database, as two processes would.
func twoProcesses(t *testing.T) map[string]func() (*Cache, *Cache) {
	return map[string]func() (*Cache, *Cache){
		"sqlite": func() (*Cache, *Cache) {
			path := filepath.Join(t.TempDir(), "ordercast.db")
			return NewCache(sharedSQLite(t, path), 100), NewCache(sharedSQLite(t, path), 100)
		},
		"postgres": func() (*Cache, *Cache) {
			u := postgresSchema(t, postgresURL(t))
			return NewCache(openPostgres(t, u), 100), NewCache(openPostgres(t, u), 100)
		},
	}
}

// subscribeRead reads as order:subscribe does: the row with the token's
// hash, then the events after since up to the row's last seq.
func subscribeRead(t *testing.T, c *Cache, id string, since int64) (orders.Order, []orders.Event) {
	t.Helper()
	o, h, err := c.OrderWithTokenHash(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(h) != "hash-"+id {
		t.Fatalf("token hash %q", h)
	}
	evs, err := c.EventsSince(t.Context(), id, since, o.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		o.Apply(e)
	}
	return o, evs
}

// TestCacheTwoProcesses: what another process commits is never hidden by
// this process's cache, and what nobody changed is served from memory.
func TestCacheTwoProcesses(t *testing.T) {
	for name, open := range twoProcesses(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open()
			create(t, a, "hot", t0)
			if _, _, err := a.Append(t.Context(), "hot", message("from a")); err != nil {
				t.Fatal(err)
			}
			hits, misses := a.Stats()
			o, evs := subscribeRead(t, a, "hot", 0)
			if !slices.Equal(seqs(evs), oneTo(2)) || o.LastSeq != 2 {
				t.Fatalf("first read: %v, last seq %d", seqs(evs), o.LastSeq)
			}
			if h, m := a.Stats(); h-hits != 2 || m != misses {
				t.Fatalf("a read what a wrote from the store: %d hits, %d misses; want 2 hits", h-hits, m-misses)
			}

			// b, another process, appends: a has not heard of it.
			if _, _, err := b.Append(t.Context(), "hot", moveTo(orders.Confirmed)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Append(t.Context(), "hot", message("from b")); err != nil {
				t.Fatal(err)
			}
			for _, since := range []int64{0, 2, 3} {
				o, evs = subscribeRead(t, a, "hot", since)
				if want := oneTo(4)[since:]; !slices.Equal(seqs(evs), want) || o.LastSeq != 4 || o.Status != orders.Confirmed {
					t.Fatalf("stale read after b's appends, since %d: seqs %v (want %v), order %+v", since, seqs(evs), want, o)
				}
			}
			// a stored what it read: the next read is from memory again.
			_, misses = a.Stats()
			hits, _ = a.Stats()
			if _, evs = subscribeRead(t, a, "hot", 1); !slices.Equal(seqs(evs), []int64{2, 3, 4}) {
				t.Fatalf("seqs %v", seqs(evs))
			}
			if h, m := a.Stats(); h-hits != 2 || m != misses {
				t.Fatalf("unchanged order read from the store: %d hits, %d misses", h-hits, m-misses)
			}

			// An event b published reaches a through the relay (Record):
			// the row is brought forward and served from memory.
			ev, _, err := b.Append(t.Context(), "hot", moveTo(orders.Packed))
			if err != nil {
				t.Fatal(err)
			}
			a.Record(ev)
			hits, misses = a.Stats()
			o, evs = subscribeRead(t, a, "hot", 4)
			if !slices.Equal(seqs(evs), []int64{5}) || o.Status != orders.Packed {
				t.Fatalf("after Record: seqs %v, order %+v", seqs(evs), o)
			}
			if h, m := a.Stats(); h-hits != 2 || m != misses {
				t.Fatalf("recorded event read from the store: %d hits, %d misses", h-hits, m-misses)
			}

			// A relayed event that runs ahead of a lost one leaves a gap:
			// the store fills it.
			lost, _, _ := b.Append(t.Context(), "hot", message("lost"))
			ahead, _, _ := b.Append(t.Context(), "hot", message("ahead"))
			a.Record(ahead)
			if _, evs = subscribeRead(t, a, "hot", 4); !slices.Equal(seqs(evs), []int64{5, lost.Seq, ahead.Seq}) {
				t.Fatalf("across a gap: seqs %v", seqs(evs))
			}
		})
	}
}

// TestCacheBounds: at most max orders; events that don't reach back to
// since are read from the store.
func TestCacheBounds(t *testing.T) {
	s := NewCache(mustSQLite(t, filepath.Join(t.TempDir(), "x.db")), 2)
	for i := range 3 {
		create(t, s, fmt.Sprintf("o%d", i), t0)
	}
	if n := len(s.byID); n != 2 || s.byID["o0"] != nil {
		t.Fatalf("%d orders cached (o0 kept: %v), want the 2 newest", n, s.byID["o0"] != nil)
	}
	for i := range CacheEvents + 10 {
		if _, _, err := s.Append(t.Context(), "o1", message(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	total := int64(CacheEvents + 11)
	_, misses := s.Stats()
	o, evs := subscribeRead(t, s, "o1", 0)
	if !slices.Equal(seqs(evs), oneTo(total)) || o.LastSeq != total {
		t.Fatalf("long timeline: %d events, last seq %d; want 1..%d", len(evs), o.LastSeq, total)
	}
	if _, m := s.Stats(); m == misses {
		t.Fatal("events beyond what is kept served from memory")
	}
	if _, evs = subscribeRead(t, s, "o1", total-3); !slices.Equal(seqs(evs), []int64{total - 2, total - 1, total}) {
		t.Fatalf("recent events: %v", seqs(evs))
	}
}

// TestCacheRowChangesWithoutEvents: an assignment and a token reissue change
// an order's row without an event (and without moving updated_at); a
// cached row never hides them, also when another process made them.
func TestCacheRowChangesWithoutEvents(t *testing.T) {
	for name, open := range twoProcesses(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open()
			create(t, a, "row", t0)
			subscribeRead(t, a, "row", 0) // a holds the row now
			sam := "Sam"
			if _, err := b.SetAssignee(t.Context(), "row", &sam); err != nil {
				t.Fatal(err)
			}
			v, err := b.ReplaceTrackingToken(t.Context(), "row", []byte("new-hash"))
			if err != nil {
				t.Fatal(err)
			}
			o, hash, err := a.OrderWithTokenHash(t.Context(), "row")
			if err != nil {
				t.Fatal(err)
			}
			if o.Assignee == nil || *o.Assignee != sam || o.TokenVersion != v || string(hash) != "new-hash" {
				t.Fatalf("cached row after b's changes: assignee %v, version %d (want %d), hash %q", o.Assignee, o.TokenVersion, v, hash)
			}
			if got, err := a.GetOrder(t.Context(), "row"); err != nil || got.Assignee == nil || *got.Assignee != sam {
				t.Fatalf("GetOrder: %+v, %v", got, err)
			}
		})
	}
}

// An append through the cache decides on the cached row and skips reading
// it while the row has not moved on; when another process moved it on, the
// row decides: a transition the cached status allowed is refused, one it
// refused is made, and an assignee another process set is the row's (the
// next append knows it). Events relayed from another process bring the
// cached row forward.
func TestCacheAppendsOnItsRow(t *testing.T) {
	for name, open := range twoProcesses(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open()
			group := a.Store.(interface{ group() *appendGroup }).group()
			for _, id := range []string{"fresh", "moved-on", "refused-before", "assigned", "relayed"} {
				create(t, a, id, t0) // a caches each row as placed
			}
			sam := "Sam"
			if _, _, err := b.Append(t.Context(), "moved-on", moveTo(orders.Cancelled)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Append(t.Context(), "refused-before", moveTo(orders.Confirmed)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.SetAssignee(t.Context(), "assigned", &sam); err != nil {
				t.Fatal(err)
			}
			relayed, _, err := b.Append(t.Context(), "relayed", moveTo(orders.Confirmed))
			if err != nil {
				t.Fatal(err)
			}
			a.Record(relayed) // as the node channel tells a
			for _, tc := range []struct {
				id      string
				cmd     decide
				seq     int64
				err     error
				atHint  bool
				assigns *string
			}{
				{id: "fresh", cmd: moveTo(orders.Confirmed), seq: 2, atHint: true},
				{id: "fresh", cmd: message("again"), seq: 3, atHint: true},
				{id: "moved-on", cmd: moveTo(orders.Confirmed), err: orders.ErrInvalidTransition},
				{id: "refused-before", cmd: moveTo(orders.Packed), seq: 3},
				{id: "assigned", cmd: message("hello"), seq: 2, assigns: &sam},
				{id: "assigned", cmd: message("again"), seq: 3, atHint: true, assigns: &sam},
				{id: "relayed", cmd: moveTo(orders.Packed), seq: 3, atHint: true},
			} {
				before := group.atHint.Load()
				ev, o, err := a.Append(t.Context(), tc.id, tc.cmd)
				if !errors.Is(err, tc.err) {
					t.Fatalf("%s: err %v, want %v", tc.id, err, tc.err)
				}
				if err != nil {
					continue
				}
				if ev.Seq != tc.seq || o.LastSeq != tc.seq {
					t.Errorf("%s: event seq %d, order last seq %d; want %d", tc.id, ev.Seq, o.LastSeq, tc.seq)
				}
				if got := group.atHint.Load() - before; got != map[bool]int64{true: 1}[tc.atHint] {
					t.Errorf("%s: %d appends written on the hint, want at hint %v", tc.id, got, tc.atHint)
				}
				if (o.Assignee == nil) != (tc.assigns == nil) || o.Assignee != nil && *o.Assignee != *tc.assigns {
					t.Errorf("%s: assignee %v, want %v", tc.id, o.Assignee, tc.assigns)
				}
				if got, err := b.GetOrder(t.Context(), tc.id); err != nil || got.LastSeq != tc.seq {
					t.Errorf("%s: the store holds last seq %d (%v), want %d", tc.id, got.LastSeq, err, tc.seq)
				}
			}
		})
	}
}
