package store

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// benchEngines opens each engine on a fresh database (PostgreSQL skips
// when absent).
func benchEngines(b *testing.B) map[string]func() Store {
	return map[string]func() Store{
		"sqlite": func() Store { return mustSQLite(b, filepath.Join(b.TempDir(), "bench.db")) },
		"postgres": func() Store {
			return openPostgres(b, postgresSchema(b, postgresURL(b)))
		},
	}
}

// BenchmarkAppend: appends from 8×GOMAXPROCS goroutines to 16 orders,
// with group commit and without (one transaction per append).
func BenchmarkAppend(b *testing.B) {
	for name, open := range benchEngines(b) {
		for _, mode := range []string{"group", "single"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				s := open()
				g := s.(grouped).group()
				if mode == "single" {
					g.max = 1
				}
				const nOrders = 16
				for i := range nOrders {
					create(b, s, fmt.Sprintf("o%d", i), t0)
				}
				var next atomic.Int64
				before := g.commits.Load()
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := fmt.Sprintf("o%d", next.Add(1)%nOrders)
						if _, _, err := s.Append(b.Context(), id, message("bench")); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/float64(g.commits.Load()-before), "appends/commit")
			})
		}
	}
}

// BenchmarkSubscribeRead: what order:subscribe reads (the row with the
// token's hash, then the events), with the cache and without.
func BenchmarkSubscribeRead(b *testing.B) {
	for name, open := range benchEngines(b) {
		for _, mode := range []string{"cache", "store"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				var s Store = open()
				if mode == "cache" {
					s = NewCache(s, 1000)
				}
				const nOrders = 64
				for i := range nOrders {
					id := fmt.Sprintf("o%d", i)
					create(b, s, id, t0)
					for range 6 {
						if _, _, err := s.Append(b.Context(), id, message("hello there")); err != nil {
							b.Fatal(err)
						}
					}
				}
				var next atomic.Int64
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := fmt.Sprintf("o%d", next.Add(1)%nOrders)
						o, _, err := s.OrderWithTokenHash(b.Context(), id)
						if err == nil {
							_, err = s.EventsSince(b.Context(), id, 0, o.LastSeq)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
