package metrics

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/ordercast/ordercast/internal/testenv"
)

// RedisHook counts failed commands by name, failed pipelines and failed
// dials; a missing key (redis.Nil) and a good command count nothing.
func TestRedisHookCountsFailures(t *testing.T) {
	m := New()
	ctx := context.Background()
	count := func(op string) float64 {
		var d dto.Metric
		if err := m.redisErrs.WithLabelValues(op).Write(&d); err != nil {
			t.Fatal(err)
		}
		return d.GetCounter().GetValue()
	}
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	c.AddHook(m.RedisHook())
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		op    string
		run   func()
		delta float64 // at least this many; 0: exactly none
	}{
		{"a good command", "ping", func() { _ = c.Ping(ctx).Err() }, 0},
		{"a missing key", "get", func() { _ = c.Get(ctx, "ordercast-test-missing-key").Err() }, 0},
		{"an unknown command", "nosuchcommand", func() { _ = c.Do(ctx, "nosuchcommand").Err() }, 1},
		{"a pipeline holding it", "pipeline", func() {
			pipe := c.Pipeline()
			pipe.Do(ctx, "nosuchcommand")
			_, _ = pipe.Exec(ctx)
		}, 1},
		{"a server that refuses connections", "dial", func() {
			down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
			defer down.Close()
			down.AddHook(m.RedisHook())
			_ = down.Ping(ctx).Err()
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count(tt.op)
			tt.run()
			d := count(tt.op) - before
			if (tt.delta == 0 && d != 0) || d < tt.delta {
				t.Fatalf("redis_errors_total{op=%q} moved by %v, want %v", tt.op, d, tt.delta)
			}
		})
	}
}
