package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// BenchmarkStatusChanges: one status change at a time to a random order
// of many, as the benchmark's rooms scenario posts them. Unlike
// BenchmarkAppend's few hot orders, each change dirties pages scattered
// over the file, so it shows what a commit and the checkpoints after it
// cost in writes. TMPDIR=/dev/shm leaves the disk's fsync out, as the
// benchmark's servers do (bench/RESULTS.md).
func BenchmarkStatusChanges(b *testing.B) {
	const nOrders = 10_000
	s := mustSQLite(b, filepath.Join(b.TempDir(), "bench.db"))
	at := time.Now()
	for i := range nOrders {
		create(b, s, fmt.Sprintf("order-%05d", i), at)
	}
	next := func(cur orders.Order) (orders.Event, error) {
		if cur.Status.Final() {
			return orders.Event{Type: orders.TypeMessage, From: orders.FromSupport, Author: "bench", Text: "hello", At: time.Now()}, nil
		}
		// Next()[0] is the forward step; cancelling is offered last.
		return orders.Event{Type: orders.TypeStatus, Status: cur.Status.Next()[0], By: "staff", At: time.Now()}, nil
	}
	var took []time.Duration
	for b.Loop() {
		id := fmt.Sprintf("order-%05d", rand.IntN(nOrders))
		start := time.Now()
		if _, _, err := s.Append(b.Context(), id, decide(next)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	// The slowest changes are those whose commit checkpointed the WAL.
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(took[len(took)-1].Microseconds()), "max-µs")
}
