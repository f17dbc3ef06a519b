package metrics

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/store"
	"github.com/redis/go-redis/v9"
)

// Store wraps s to count its failures by operation. Answers that are about
// the request (no such order, duplicate id, refused transition, bad cursor,
// the client went away) are not failures of the store.
func (m *Metrics) Store(s store.Store) store.Store {
	return &countingStore{Store: s, m: m}
}

type countingStore struct {
	store.Store
	m *Metrics
}

func (s *countingStore) count(op string, err error) {
	if storeFault(err) {
		s.m.storeErrs.WithLabelValues(op).Inc()
	}
}

func storeFault(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, orders.ErrNotFound),
		errors.Is(err, orders.ErrDuplicate),
		errors.Is(err, orders.ErrInvalidTransition),
		errors.Is(err, store.ErrBadCursor),
		errors.Is(err, context.Canceled):
		return false
	}
	var inv *orders.InvalidError
	return !errors.As(err, &inv)
}

func (s *countingStore) CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error) {
	o, e, err := s.Store.CreateOrder(ctx, o, tokenHash, first)
	s.count("create_order", err)
	return o, e, err
}

func (s *countingStore) GetOrder(ctx context.Context, id string) (orders.Order, error) {
	o, err := s.Store.GetOrder(ctx, id)
	s.count("get_order", err)
	return o, err
}

func (s *countingStore) OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error) {
	o, h, err := s.Store.OrderWithTokenHash(ctx, id)
	s.count("order_with_token_hash", err)
	return o, h, err
}

func (s *countingStore) ListOrders(ctx context.Context, q store.ListQuery) ([]orders.Order, string, error) {
	list, next, err := s.Store.ListOrders(ctx, q)
	s.count("list_orders", err)
	return list, next, err
}

func (s *countingStore) Append(ctx context.Context, orderID string, cmd orders.Command) (orders.Event, orders.Order, error) {
	e, o, err := s.Store.Append(ctx, orderID, cmd)
	s.count("append", err)
	return e, o, err
}

func (s *countingStore) Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error) {
	evs, err := s.Store.Events(ctx, orderID, since)
	s.count("events", err)
	return evs, err
}

func (s *countingStore) EventsSince(ctx context.Context, orderID string, since, known int64) ([]orders.Event, error) {
	evs, err := s.Store.EventsSince(ctx, orderID, since, known)
	s.count("events", err)
	return evs, err
}

// Dependencies whose failed readiness checks are counted by Check.
const (
	DepStore = "store"
	DepRedis = "redis"
)

// Check wraps a readiness check of dependency dep (DepStore or DepRedis) so
// that its failures count as that dependency's errors, with op "ping".
func (m *Metrics) Check(dep string, fn func(context.Context) error) func(context.Context) error {
	errs := m.storeErrs
	if dep == DepRedis {
		errs = m.redisErrs
	}
	return func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			errs.WithLabelValues("ping").Inc()
		}
		return err
	}
}

// RedisHook counts failed Redis dials, commands (by command name) and
// pipelines; attach it with AddHook to every client the Redis adapter uses.
// redis.Nil (a missing key) is an answer, not an error.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m: m} }

type redisHook struct{ m *Metrics }

func (h redisHook) fail(op string, err error) {
	if err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled) {
		h.m.redisErrs.WithLabelValues(op).Inc()
	}
}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		h.fail("dial", err)
		return c, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.fail(strings.ToLower(cmd.Name()), err)
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.fail("pipeline", err)
		return err
	}
}
