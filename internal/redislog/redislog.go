// Package redislog routes go-redis's own log lines to slog.
package redislog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// Route sends go-redis's own log lines (a failed dial, once per pooled
// connection during an outage) to log at debug level, instead of
// unstructured lines on stderr.
//
// It is process-global: go-redis has one logger for every client
// (redis.SetLogger), with no per-client option. So only the composition
// root calls it, once, before opening Redis clients; libraries and tests
// never do.
func Route(log *slog.Logger) { redis.SetLogger(logger{log}) }

type logger struct{ log *slog.Logger }

func (l logger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
