package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ordercast/ordercast/orders"
)

// TestSQLiteOneProcess: the file is one process's at a time; a second
// open is refused with ErrInUse until the first is closed.
func TestSQLiteOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ordercast.db")
	first, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if !first.soleWriter() {
		t.Fatal("OpenSQLite did not take the file for itself")
	}
	if s, err := OpenSQLite(t.Context(), path); !errors.Is(err, ErrInUse) {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("second open: %v, want ErrInUse", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	_ = again.Close()
	if sharedSQLite(t, path).soleWriter() {
		t.Fatal("a file opened without the lock counts as this process's alone")
	}
}

// soleCache is a cache on a locked SQLite file, counting the reads of the
// order's head it makes.
func soleCache(t *testing.T) (*Cache, *atomic.Int64) {
	t.Helper()
	c := NewCache(mustSQLite(t, filepath.Join(t.TempDir(), "ordercast.db")), 100)
	heads := new(atomic.Int64)
	head := c.head
	c.head = func(ctx context.Context, id string) (orderHead, error) {
		heads.Add(1)
		return head(ctx, id)
	}
	return c, heads
}

// TestCacheTrustsItsOwnWrites: with the file its own, the cache serves an
// order written only through it with no read of the store, and what each
// write changed (events, status, assignee, token) is served at once.
func TestCacheTrustsItsOwnWrites(t *testing.T) {
	c, heads := soleCache(t)
	ctx := t.Context()
	create(t, c, "o", t0)
	read := func(what string, wantHash string, check func(orders.Order) bool) {
		t.Helper()
		o, hash, err := c.OrderWithTokenHash(ctx, "o")
		if err != nil {
			t.Fatal(err)
		}
		if string(hash) != wantHash || !check(o) {
			t.Fatalf("%s: order %+v, hash %q (want %q)", what, o, hash, wantHash)
		}
		if n := heads.Load(); n != 0 {
			t.Fatalf("%s: %d reads of the store", what, n)
		}
	}
	read("after create", "hash-o", func(o orders.Order) bool { return o.LastSeq == 1 && o.Status == orders.Placed })
	if _, _, err := c.Append(ctx, "o", moveTo(orders.Confirmed)); err != nil {
		t.Fatal(err)
	}
	read("after append", "hash-o", func(o orders.Order) bool { return o.LastSeq == 2 && o.Status == orders.Confirmed })
	sam := "Sam"
	if _, err := c.SetAssignee(ctx, "o", &sam); err != nil {
		t.Fatal(err)
	}
	read("after assign", "hash-o", func(o orders.Order) bool { return o.Assignee != nil && *o.Assignee == sam })
	v, err := c.ReplaceTrackingToken(ctx, "o", []byte("new-hash"))
	if err != nil {
		t.Fatal(err)
	}
	read("after reissue", "new-hash", func(o orders.Order) bool { return o.TokenVersion == v && v > 1 })
	if evs, err := c.EventsSince(ctx, "o", 0, 2); err != nil || len(evs) != 2 {
		t.Fatalf("events: %v, %v", evs, err)
	}
	if got, err := c.GetOrder(ctx, "o"); err != nil || got.Assignee == nil || got.LastSeq != 2 {
		t.Fatalf("GetOrder: %+v, %v", got, err)
	}
	want, hash, err := c.Store.OrderWithTokenHash(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	got, gotHash, _ := c.OrderWithTokenHash(ctx, "o")
	equalOrder(t, "served from memory", got, want)
	if string(gotHash) != string(hash) {
		t.Fatalf("hash %q, store %q", gotHash, hash)
	}
}

// TestCacheDistrustsOverlaps: a write that overlapped another, a write that
// failed, and an event from another process each send the next read to
// the store, which makes the entry trusted again.
func TestCacheDistrustsOverlaps(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		event func(t *testing.T, c *Cache)
	}{
		{"overlapping writes", func(t *testing.T, c *Cache) {
			w := c.beginWrite("o") // a write still on its way
			if _, _, err := c.Append(ctx, "o", message("meanwhile")); err != nil {
				t.Fatal(err)
			}
			c.endWrite(w, func(*cached) {}, false)
		}},
		{"failed write", func(t *testing.T, c *Cache) {
			if _, _, err := c.Append(ctx, "o", moveTo(orders.Placed)); !errors.Is(err, orders.ErrInvalidTransition) {
				t.Fatalf("append: %v", err)
			}
		}},
		{"another process's event", func(t *testing.T, c *Cache) {
			c.Record(orders.Event{OrderID: "o", Seq: 2, Type: orders.TypeMessage})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, heads := soleCache(t)
			create(t, c, "o", t0)
			tc.event(t, c)
			for i, want := range []int64{1, 1} { // the store once, then memory
				if _, _, err := c.OrderWithTokenHash(ctx, "o"); err != nil {
					t.Fatal(err)
				}
				if n := heads.Load(); n != want {
					t.Fatalf("read %d: %d reads of the store, want %d", i+1, n, want)
				}
			}
		})
	}
}

// TestCacheConcurrentWritesEndAsTheStore: whatever order concurrent writes
// to one order commit and report in, the cache serves what the store holds
// once they are done.
func TestCacheConcurrentWritesEndAsTheStore(t *testing.T) {
	c, _ := soleCache(t)
	ctx := t.Context()
	for round := range 20 {
		id := fmt.Sprintf("o%d", round)
		create(t, c, id, t0)
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := range 5 {
					var err error
					switch (g + i) % 3 {
					case 0:
						name := fmt.Sprintf("agent-%d-%d", g, i)
						_, err = c.SetAssignee(ctx, id, &name)
					case 1:
						_, _, err = c.Append(ctx, id, message("hi"))
					case 2:
						_, err = c.ReplaceTrackingToken(ctx, id, fmt.Appendf(nil, "hash-%d-%d", g, i))
					}
					if err != nil {
						t.Error(err)
					}
					_, _, _ = c.OrderWithTokenHash(ctx, id) // reads among the writes
				}
			})
		}
		wg.Wait()
		want, wantHash, err := c.Store.OrderWithTokenHash(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, gotHash, err := c.OrderWithTokenHash(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		equalOrder(t, "after concurrent writes", got, want)
		if string(gotHash) != string(wantHash) {
			t.Fatalf("round %d: hash %q, store %q", round, gotHash, wantHash)
		}
	}
}
