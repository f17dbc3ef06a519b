package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ordercast/ordercast/store"
)

// keyPurger deletes expired Idempotency-Key records (the store).
type keyPurger interface {
	PurgeIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error)
}

// purgeIdempotencyKeys deletes expired records every interval until ctx
// ends, in bounded batches through the expiry index, so that neither a
// request nor the purge scans the table or holds the write lock for long.
// (Requests treat an expired record as absent, so a late purge is harmless.)
func purgeIdempotencyKeys(ctx context.Context, s keyPurger, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := s.PurgeIdempotencyKeys(ctx, time.Now(), store.DefaultPurgeBatch)
			if err != nil {
				log.Warn("purge of idempotency keys failed", "err", err)
				break
			}
			if n < store.DefaultPurgeBatch {
				break
			}
		}
	}
}
