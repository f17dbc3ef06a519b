package main

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// change is one status change the benchmark posted: when, how many
// deliveries it expects, how many arrived and when the last one did.
type change struct {
	order  *benchOrder
	seq    int
	posted atomic.Int64 // unix nanos, set just before the POST
	expect int32
	got    atomic.Int32
	doneAt atomic.Int64
	done   chan struct{}
	stored chan struct{} // closed once the POST was answered
}

func (c *change) elapsed() time.Duration {
	return time.Duration(c.doneAt.Load() - c.posted.Load())
}

type orderTrack struct {
	seqs [8]atomic.Pointer[change]
}

// tracker matches deliveries to the changes posted. Its order map is
// read-only once built, so the receive path takes no lock unless per
// delivery latencies are being recorded.
type tracker struct {
	orders     map[string]*orderTrack
	deliveries atomic.Int64
	stray      atomic.Int64
	record     atomic.Bool
	mu         sync.Mutex
	lats       []time.Duration
}

func newTracker(orders []*benchOrder) *tracker {
	t := &tracker{orders: make(map[string]*orderTrack, len(orders))}
	for _, o := range orders {
		t.orders[o.id] = &orderTrack{}
	}
	return t
}

// expect registers the next change of o, to be seen by n clients.
func (t *tracker) expect(o *benchOrder, n int) *change {
	c := &change{order: o, seq: o.seq + 1, expect: int32(n), done: make(chan struct{}), stored: make(chan struct{})}
	t.orders[o.id].seqs[c.seq].Store(c)
	return c
}

func (t *tracker) status(id []byte, seq int, at time.Time) {
	ot := t.orders[string(id)]
	if ot == nil || seq <= 0 || seq >= len(ot.seqs) {
		t.stray.Add(1)
		return
	}
	c := ot.seqs[seq].Load()
	if c == nil {
		t.stray.Add(1) // e.g. the "placed" event of an order created meanwhile
		return
	}
	t.deliveries.Add(1)
	now := at.UnixNano()
	if t.record.Load() {
		t.mu.Lock()
		t.lats = append(t.lats, time.Duration(now-c.posted.Load()))
		t.mu.Unlock()
	}
	if c.got.Add(1) == c.expect {
		c.doneAt.Store(now)
		close(c.done)
	}
}

func (t *tracker) takeLatencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.lats
	t.lats = nil
	return l
}

// nullSink ignores deliveries (scenarios that only connect).
type nullSink struct{}

func (nullSink) status([]byte, int, time.Time) {}

// pct returns the p-th percentile (0..1) in milliseconds, nearest rank.
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}
