package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// holdWriteLock makes another instance (another process) hold what an
// append to id must wait for: the SQLite write lock, or the PostgreSQL row
// lock of id, until release is called. Appends to id queue meanwhile.
func holdWriteLock(t *testing.T, other storeUnderTest, id string) (release func(), result <-chan error) {
	t.Helper()
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, _, err := other.Append(context.Background(), id, decide(func(orders.Order) (orders.Event, error) {
			close(entered)
			<-unblock
			return orders.Event{Type: orders.TypeMessage, From: orders.FromSupport, Author: "holder", Text: "hold"}, nil
		}))
		done <- err
	}()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("lock holder failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("lock holder never got the lock")
	}
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release, done
}

// waitQueued waits until n appends wait behind the running commit.
func waitQueued(t *testing.T, g *appendGroup, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d queued appends", n), func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.queue) == n
	})
}

// waitFor polls cond until it holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling a condition, bounded by the deadline
	}
}

type appendResult struct {
	ev  orders.Event
	err error
}

// queueInOrder starts one Append per command on s, each queued after the
// previous one (the first leads and waits for the lock), and returns their
// results in the same order once release has let them run.
func queueInOrder(t *testing.T, s storeUnderTest, release func(), reqs []queuedAppend) []appendResult {
	t.Helper()
	g := s.(grouped).group()
	before := g.commits.Load()
	out := make([]appendResult, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		ctx := r.ctx
		if ctx == nil {
			ctx = t.Context()
		}
		wg.Go(func() {
			ev, _, err := s.Append(ctx, r.id, r.cmd)
			out[i] = appendResult{ev, err}
		})
		if i == 0 {
			// The first leads: its transaction waits for the lock.
			waitFor(t, "the leader's transaction", func() bool { return g.commits.Load() > before })
		} else {
			waitQueued(t, g, i)
		}
	}
	for _, r := range reqs {
		if r.cancel != nil {
			r.cancel()
		}
	}
	release()
	wg.Wait()
	return out
}

// queueBehindLock opens two instances on one database (two processes),
// creates order hot and the orders more, queues reqs on the first while
// the second holds the lock, and returns the first and reqs' results.
func queueBehindLock(t *testing.T, open func() storeUnderTest, reqs []queuedAppend, more ...string) (storeUnderTest, []appendResult) {
	t.Helper()
	s, other := open(), open()
	for _, id := range append([]string{"hot"}, more...) {
		create(t, s, id, t0)
	}
	release, held := holdWriteLock(t, other, "hot")
	res := queueInOrder(t, s, release, reqs)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	return s, res
}

type queuedAppend struct {
	id     string
	cmd    orders.Command
	ctx    context.Context
	cancel context.CancelFunc
}

var groupCommitCases = []conformanceCase{
	{"group commit: appends queued meanwhile share one transaction", func(t *testing.T, open func() storeUnderTest) {
		var reqs []queuedAppend
		for i := range 10 {
			reqs = append(reqs, queuedAppend{id: "hot", cmd: message(fmt.Sprintf("m%d", i))})
		}
		s, res := queueBehindLock(t, open, reqs) // creating an order is no append
		for i, r := range res {
			// seq 1 is the creation, 2 the lock holder's, 3 the leader's.
			if r.err != nil || r.ev.Seq != int64(i+3) || r.ev.Text != fmt.Sprintf("m%d", i) {
				t.Fatalf("append %d: seq %d text %q err %v; want seq %d in queue order", i, r.ev.Seq, r.ev.Text, r.err, i+3)
			}
		}
		if n := s.(grouped).group().commits.Load(); n != 2 {
			t.Fatalf("%d transactions for 10 appends, want 2 (the leader's, then the 9 queued meanwhile)", n)
		}
		evs, err := s.Events(t.Context(), "hot", 0)
		if err != nil || !slices.Equal(seqs(evs), oneTo(12)) {
			t.Fatalf("stored seqs %v, %v; want 1..12", seqs(evs), err)
		}
	}},
	{"group commit: each caller gets its own seq or its own error", func(t *testing.T, open func() storeUnderTest) {
		cctx, cancel := context.WithCancel(t.Context())
		s, res := queueBehindLock(t, open, []queuedAppend{
			{id: "hot", cmd: message("leader")},                          // alone, first: seq 3
			{id: "hot", cmd: message("a")},                               // 4
			{id: "hot", cmd: moveTo(orders.Delivered)},                   // refused
			{id: "hot", cmd: moveTo(orders.Confirmed)},                   // 5
			{id: "hot", cmd: moveTo(orders.Confirmed)},                   // refused: confirmed already
			{id: "missing", cmd: message("x")},                           // not found
			{id: "cold", cmd: message("c")},                              // 2 of cold
			{id: "hot", cmd: message("gone"), ctx: cctx, cancel: cancel}, // cancelled while queued
			{id: "hot", cmd: message("b")},                               // 6
		}, "cold")
		want := []struct {
			seq int64
			err error
		}{{3, nil}, {4, nil}, {0, orders.ErrInvalidTransition}, {5, nil}, {0, orders.ErrInvalidTransition},
			{0, orders.ErrNotFound}, {2, nil}, {0, context.Canceled}, {6, nil}}
		for i, w := range want {
			r := res[i]
			if w.err != nil {
				if !errors.Is(r.err, w.err) || r.ev.Seq != 0 {
					t.Fatalf("append %d: %+v, %v; want error %v", i, r.ev, r.err, w.err)
				}
				continue
			}
			if r.err != nil || r.ev.Seq != w.seq {
				t.Fatalf("append %d: seq %d, %v; want seq %d", i, r.ev.Seq, r.err, w.seq)
			}
		}
		for id, n := range map[string]int64{"hot": 6, "cold": 2} {
			evs, err := s.Events(t.Context(), id, 0)
			if err != nil || !slices.Equal(seqs(evs), oneTo(n)) {
				t.Fatalf("%s: stored seqs %v, %v; want 1..%d", id, seqs(evs), err, n)
			}
		}
		if o, err := s.GetOrder(t.Context(), "hot"); err != nil || o.Status != orders.Confirmed || o.LastSeq != 6 {
			t.Fatalf("hot after the group: %+v, %v", o, err)
		}
	}},
	{"group commit: a statement that fails fails its caller alone", func(t *testing.T, open func() storeUnderTest) {
		// PostgreSQL refuses a NUL in text, aborting the transaction;
		// SQLite stores it. Either way the others are stored.
		s, res := queueBehindLock(t, open, []queuedAppend{
			{id: "hot", cmd: message("leader")},
			{id: "hot", cmd: message("a")},
			{id: "hot", cmd: message("nul \x00 byte")},
			{id: "hot", cmd: message("b")},
		})
		var texts []string
		for i, r := range res {
			if i != 2 && r.err != nil {
				t.Fatalf("append %d failed with the NUL one: %v", i, r.err)
			}
			if r.err == nil {
				texts = append(texts, r.ev.Text)
			}
		}
		evs, err := s.Events(t.Context(), "hot", 0)
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for _, e := range evs[2:] {
			stored = append(stored, e.Text)
		}
		if !slices.Equal(stored, texts) || !slices.Equal(seqs(evs), oneTo(int64(len(evs)))) {
			t.Fatalf("stored %q (seqs %v), want %q without gaps", stored, seqs(evs), texts)
		}
	}},
	{"group commit: a command that panics fails its caller alone", func(t *testing.T, open func() storeUnderTest) {
		s, res := queueBehindLock(t, open, []queuedAppend{
			{id: "hot", cmd: message("leader")},
			{id: "hot", cmd: message("a")},
			{id: "hot", cmd: decide(func(orders.Order) (orders.Event, error) { panic("boom") })},
			{id: "hot", cmd: message("b")},
		})
		for i, want := range []int64{3, 4, 0, 5} {
			if r := res[i]; r.ev.Seq != want || (want == 0) != (r.err != nil) {
				t.Fatalf("append %d: seq %d, %v; want seq %d", i, r.ev.Seq, r.err, want)
			}
		}
		if !strings.Contains(res[2].err.Error(), "boom") {
			t.Fatalf("the panic's error: %v", res[2].err)
		}
		// The group is not left busy: the next append goes through.
		if ev, _, err := s.Append(t.Context(), "hot", message("after")); err != nil || ev.Seq != 6 {
			t.Fatalf("append after the panic: seq %d, %v", ev.Seq, err)
		}
	}},
	{"group commit: concurrent appends and refusals on many orders", func(t *testing.T, open func() storeUnderTest) {
		s := open()
		const nOrders, movers, writers, n = 6, 4, 3, 10
		for i := range nOrders {
			create(t, s, fmt.Sprintf("o%d", i), t0)
		}
		var mu sync.Mutex
		confirmed := map[string]int{}
		var wg sync.WaitGroup
		errs := make(chan error, nOrders*(movers+writers))
		for i := range nOrders {
			id := fmt.Sprintf("o%d", i)
			for range movers {
				wg.Go(func() {
					_, _, err := s.Append(t.Context(), id, moveTo(orders.Confirmed))
					switch {
					case err == nil:
						mu.Lock()
						confirmed[id]++
						mu.Unlock()
					case !errors.Is(err, orders.ErrInvalidTransition):
						errs <- err
					}
				})
			}
			for w := range writers {
				wg.Go(func() {
					last := int64(0)
					for k := range n {
						ev, _, err := s.Append(t.Context(), id, message(fmt.Sprintf("w%d #%d", w, k)))
						if err != nil {
							errs <- err
							return
						}
						if ev.Seq <= last {
							errs <- fmt.Errorf("%s: seq %d after %d from one caller", id, ev.Seq, last)
							return
						}
						last = ev.Seq
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := range nOrders {
			id := fmt.Sprintf("o%d", i)
			if confirmed[id] != 1 {
				t.Fatalf("%s confirmed %d times, want once", id, confirmed[id])
			}
			evs, err := s.Events(t.Context(), id, 0)
			if err != nil || !slices.Equal(seqs(evs), oneTo(1+1+writers*n)) {
				t.Fatalf("%s: seqs %v, %v; want 1..%d", id, seqs(evs), err, 2+writers*n)
			}
		}
	}},
}
