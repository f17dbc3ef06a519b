package rooms

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/store"
)

// delivered records what a sequencer delivers.
type delivered struct {
	mu   sync.Mutex
	seqs []int64
	got  chan struct{}
}

func (d *delivered) deliver(e orders.Event) {
	d.mu.Lock()
	d.seqs = append(d.seqs, e.Seq)
	d.mu.Unlock()
	d.got <- struct{}{}
}

// waitFor waits until n events were delivered, with a deadline.
func (d *delivered) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		d.mu.Lock()
		seqs := slices.Clone(d.seqs)
		d.mu.Unlock()
		if len(seqs) >= n {
			return seqs
		}
		select {
		case <-d.got:
		case <-deadline:
			t.Fatalf("delivered %v, want %d events", seqs, n)
		}
	}
}

// sqliteWithEvents is a real SQLite store holding order A-1 with seqs 1..n.
func sqliteWithEvents(t *testing.T, n int) *store.SQLite {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "seq.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	o := orders.Order{ID: "A-1", Customer: "Ada", Items: []orders.Item{{Name: "Tea", Qty: 1}}, Total: 100, Currency: "EUR", Status: orders.Placed, CreatedAt: now, UpdatedAt: now}
	if _, _, err := st.CreateOrder(ctx, o, []byte("hash"), orders.Event{OrderID: "A-1", Type: orders.TypeStatus, Status: orders.Placed, At: now, By: "service"}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n; i++ {
		if _, _, err := st.Append(ctx, "A-1", orders.PostMessage{From: orders.FromCustomer, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func ev(seq int64) orders.Event {
	return orders.Event{OrderID: "A-1", Seq: seq, Type: orders.TypeMessage, Text: "hi", At: time.Now()}
}

func TestSequencer(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name   string
		stored int     // events of A-1 in the store
		watch  int64   // a subscriber's seq before the offers; 0: none
		offers []int64 // in arrival order
		want   []int64 // in delivery order
	}{
		{"in order", 4, 0, []int64{2, 3, 4}, []int64{2, 3, 4}},
		{"two concurrent writers swap", 5, 1, []int64{3, 2, 5, 4}, []int64{2, 3, 4, 5}},
		{"duplicates are dropped", 3, 1, []int64{2, 2, 3, 2}, []int64{2, 3}},
		{"a writer died before publishing 3: read from the store", 4, 2, []int64{4}, []int64{3, 4}},
		{"the store lacks 3 too: skipped after the wait", 2, 2, []int64{4}, []int64{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &delivered{got: make(chan struct{}, 16)}
			s := newSequencer(d.deliver, sqliteWithEvents(t, tt.stored), 50*time.Millisecond, quiet)
			if tt.watch > 0 {
				s.watch("A-1", tt.watch)
			}
			for _, seq := range tt.offers {
				s.offer(ev(seq))
			}
			got := d.waitFor(t, len(tt.want))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
		})
	}
}

// Many goroutines offering one order's events in any order: every event is
// delivered once, in seq order.
func TestSequencerConcurrentOffers(t *testing.T) {
	const n = 500
	d := &delivered{got: make(chan struct{}, n)}
	s := newSequencer(d.deliver, nil, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.watch("A-1", 0)
	var wg sync.WaitGroup
	for seq := int64(n); seq >= 1; seq-- {
		wg.Add(1)
		go func() { defer wg.Done(); s.offer(ev(seq)) }()
	}
	wg.Wait()
	got := d.waitFor(t, n)
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("delivery %d is seq %d: %v", i, seq, got[:i+1])
		}
	}
}
