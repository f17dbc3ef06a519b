package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// Group commit of appends: the appends that queue while a commit runs go
// into the next transaction together, so that one commit (one fsync of the
// SQLite WAL, one WAL flush of PostgreSQL) serves them all. Each caller
// still gets its own seq or its own error: a command that refuses (say,
// invalid_transition) writes nothing and leaves the others alone.

// appendReq is one Append waiting for its turn.
type appendReq struct {
	ctx     context.Context
	orderID string
	cmd     orders.Command
	// hint, when not nil, is the order as the cache last saw it: appendAll
	// decides against it and writes only if the row's last_seq is still
	// the hint's, which saves reading the row (appendAtHint).
	hint *orders.Order

	ev  orders.Event
	o   orders.Order
	err error
	// finished is set, before wake, once the result is in.
	finished bool
	// wroteAtHint: written by appendAtHint.
	wroteAtHint bool
	// wake gets one signal: the result is in, or this caller now leads.
	wake chan struct{}
}

// batchFunc runs reqs in one transaction, in order, setting each one's
// result; a command's own refusal is set on its req and does not abort the
// transaction. It returns an error only when the transaction failed as a
// whole: atCommit says the commit itself failed (its outcome is then
// unknown, so nothing may be retried); otherwise nothing was written.
type batchFunc func(ctx context.Context, reqs []*appendReq) (err error, atCommit bool)

// appendGroup queues appends for one writer. The first caller to find no
// commit running leads: it commits everything queued, then hands the lead
// to the first caller queued meanwhile, so no caller waits for more than
// the commit ahead of its own.
type appendGroup struct {
	run batchFunc
	// max bounds one transaction; 1 turns group commit off.
	max int

	// commits counts transactions run, and atHint the appends written on
	// their hint, for tests and benchmarks.
	commits, atHint atomic.Int64

	mu    sync.Mutex
	queue []*appendReq
	busy  bool
}

// maxGroup bounds the appends of one transaction, so that its locks are
// held briefly.
const maxGroup = 128

// groupTimeout bounds one group's transaction, which serves several
// callers and so cannot use one caller's context.
const groupTimeout = 10 * time.Second

func newAppendGroup(run batchFunc) *appendGroup {
	return &appendGroup{run: run, max: maxGroup}
}

// append queues one Append and returns its result.
func (g *appendGroup) append(ctx context.Context, orderID string, cmd orders.Command, hint *orders.Order) (orders.Event, orders.Order, error) {
	r := &appendReq{ctx: ctx, orderID: orderID, cmd: cmd, hint: hint, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		<-r.wake
	}
	if !r.finished {
		g.lead()
	}
	if r.err != nil {
		return orders.Event{}, orders.Order{}, fmt.Errorf("append event to order %s: %w", orderID, r.err)
	}
	return r.ev, r.o, nil
}

// lead commits one group (the caller's own request is its first), then
// passes the lead on or marks the group idle.
func (g *appendGroup) lead() {
	// Appends whose goroutines are ready to run (requests the network
	// poller found together) reach the queue before the group is taken:
	// under load a group then holds them all, and one commit serves them.
	// Without it, on one core, each ran its own transaction while the
	// others waited to run. With nothing else to run it returns at once.
	runtime.Gosched()
	g.mu.Lock()
	n := min(len(g.queue), g.max)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	defer g.handOff()
	g.commit(batch)
}

// handOff wakes the first request queued meanwhile to lead the next group,
// or marks the group idle.
func (g *appendGroup) handOff() {
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.busy = false
		g.queue = nil
		g.mu.Unlock()
		return
	}
	next := g.queue[0]
	g.mu.Unlock()
	next.wake <- struct{}{}
}

// commit runs batch in one transaction; when a statement failed (nothing
// was written), each request runs again alone, so that a fault of one
// reaches only its caller. Every request of batch is finished and woken,
// whatever happens.
func (g *appendGroup) commit(batch []*appendReq) {
	defer func() {
		p := recover()
		for _, r := range batch {
			if p != nil && !r.finished {
				r.ev, r.o, r.err = orders.Event{}, orders.Order{}, fmt.Errorf("append: panic: %v", p)
			}
			r.finished = true
			r.wake <- struct{}{}
		}
	}()
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// Rows are locked in id order, the same in every process, so that two
	// groups never deadlock; one order's appends keep their queue order.
	slices.SortStableFunc(live, func(a, b *appendReq) int { return strings.Compare(a.orderID, b.orderID) })
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	g.commits.Add(1)
	err, atCommit := g.run(ctx, live)
	switch {
	case err == nil:
		for _, r := range live {
			if r.wroteAtHint && r.err == nil {
				g.atHint.Add(1)
			}
		}
	case atCommit || len(live) == 1:
		for _, r := range live {
			if r.err == nil {
				r.err = err
			}
		}
	default:
		for _, r := range live {
			g.commits.Add(1)
			if err, _ := g.run(ctx, []*appendReq{r}); err != nil {
				r.err = err
			}
		}
	}
}

// appendTx is one engine's transaction for a group of appends.
type appendTx interface {
	// lockOrder reads the order and locks it for the transaction;
	// orders.ErrNotFound when there is none.
	lockOrder(ctx context.Context, id string) (orders.Order, error)
	insertEvent(ctx context.Context, e orders.Event) error
	// updateOrderAt writes o's last_seq, updated_at, status and
	// awaiting_since if the row's last_seq is still was and its assignee
	// (which changes without an event) still o's, locking the row; ok
	// false: it is not, and nothing was written.
	updateOrderAt(ctx context.Context, o orders.Order, was int64) (ok bool, err error)
}

// appendAll decides and writes each of reqs in tx, in order. A missing
// order or a command's refusal is set on its request and writes nothing;
// a failed statement is returned, and the caller commits nothing.
func appendAll(ctx context.Context, tx appendTx, reqs []*appendReq) error {
	for _, r := range reqs {
		if done, err := appendAtHint(ctx, tx, r); err != nil {
			return err
		} else if done {
			continue
		}
		cur, err := tx.lockOrder(ctx, r.orderID)
		if errors.Is(err, orders.ErrNotFound) {
			r.err = orders.ErrNotFound
			continue
		}
		if err != nil {
			return err
		}
		if !r.decideNext(cur, time.Now()) {
			continue
		}
		if err := tx.insertEvent(ctx, r.ev); err != nil {
			return err
		}
		if ok, err := tx.updateOrderAt(ctx, r.o, cur.LastSeq); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("order %s changed while locked", r.orderID)
		}
	}
	return nil
}

// appendAtHint decides r against its hint and writes it if the order's
// row is still at the hint's seq: a status or a chat message follows from
// the events up to last_seq, so the decision is the one the locked row
// would give. done false: no hint, a refusal (which only the row itself
// may give) or a row that moved on; nothing was written, and r goes the
// locked way.
func appendAtHint(ctx context.Context, tx appendTx, r *appendReq) (done bool, err error) {
	r.wroteAtHint = false
	if r.hint == nil || !r.decideNext(*r.hint, time.Now()) {
		return false, nil
	}
	ok, err := tx.updateOrderAt(ctx, r.o, r.hint.LastSeq)
	if err != nil || !ok {
		return false, err
	}
	if err := tx.insertEvent(ctx, r.ev); err != nil {
		return false, err
	}
	r.wroteAtHint = true
	return true, nil
}

// decideNext runs r's command against cur (the order as locked in this
// transaction) and sets r's result; ok is false when the command refused,
// r.err then holding why, and nothing is to be written.
func (r *appendReq) decideNext(cur orders.Order, now time.Time) bool {
	r.ev, r.o, r.err = orders.Event{}, orders.Order{}, nil
	built, err := safeDecide(r.cmd, cur)
	if err == nil {
		r.ev, r.o, err = nextEvent(cur, built, now)
	}
	if err != nil {
		r.ev, r.o, r.err = orders.Event{}, orders.Order{}, err
		return false
	}
	return true
}

// safeDecide runs cmd, turning a panic into its caller's error: the group's
// other requests go on.
func safeDecide(cmd orders.Command, cur orders.Order) (ev orders.Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("command panicked: %v", p)
		}
	}()
	return cmd.Decide(cur)
}
