package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
)

// sseRetry is the reconnection delay suggested to EventSource clients.
const sseRetry = 2 * time.Second

// eventReader reads an order's stored events (the store).
type eventReader interface {
	Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error)
	EventsSince(ctx context.Context, orderID string, since, known int64) ([]orders.Event, error)
}

// Listener hands an order's live events to an SSE stream (rooms.Streams).
type Listener interface {
	Listen(orderID string) (*rooms.Listener, func())
}

// streams serve each order's events as Server-Sent Events.
type streams struct {
	act       *orderActions
	events    eventReader
	listen    Listener
	heartbeat time.Duration
	stopping  <-chan struct{}
	log       *slog.Logger
}

// stream serves GET /api/orders/:id/stream as Server-Sent Events. Like
// order:subscribe, it listens FIRST and then reads the store after
// Last-Event-ID, dropping anything it has sent already by seq.
func (h *streams) stream(c *gin.Context) {
	id := c.Param("id")
	ctx := c.Request.Context()
	caller, o, err := h.act.canRead(ctx, callerOf(c), id, c.Query("token"))
	if err != nil {
		abort(c, err)
		return
	}
	last, err := lastEventID(c)
	if err != nil {
		abort(c, err)
		return
	}
	l, stop := h.listen.Listen(id)
	defer stop()
	revoked, forget, err := h.admit(caller, o)
	if err != nil {
		abort(c, err)
		return
	}
	defer forget()
	// The store had o.LastSeq when the token was checked: a cache may
	// answer up to there.
	events, err := h.events.EventsSince(ctx, id, last, o.LastSeq)
	if err != nil {
		abort(c, fmt.Errorf("load events of order %s: %w", id, err))
		return
	}

	w := c.Writer
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Connection", "keep-alive")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", sseRetry.Milliseconds())

	// Live events come encoded once by the hub for every stream; those
	// read from the store are encoded here.
	send := func(evs ...rooms.Delivery) bool {
		for _, e := range evs {
			if e.Seq <= last {
				continue
			}
			data := e.JSON
			if data == nil {
				var err error
				if data, err = json.Marshal(e.Event); err != nil {
					return false
				}
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data); err != nil {
				return false
			}
			last = e.Seq
		}
		w.Flush()
		return true
	}
	if !send(stored(events)...) {
		return
	}
	heartbeat := time.NewTicker(h.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-revoked:
			return // the token was replaced: the stream ends
		case <-h.stopping:
			// Tell the client to come back soon, to this process or another.
			fmt.Fprintf(w, ": server shutting down\nretry: %d\n\n", sseRetry.Milliseconds())
			w.Flush()
			return
		case e := <-l.C:
			if e.Seq > last+1 {
				// Events of one order published by different requests (or
				// processes) may arrive out of order: fill the gap from the
				// store rather than skip the missing ones for good.
				if !h.catchUp(ctx, id, last, send) {
					return
				}
				continue
			}
			if !send(e) {
				return
			}
		case <-l.Lagged:
			// Dropped for being slow, or a resync after a Redis outage (when
			// a replacement of the token may have been missed): check the
			// token again, catch up from the store and listen again.
			if _, _, err := h.act.canRead(ctx, caller, id, c.Query("token")); err != nil {
				return
			}
			stop()
			l, stop = h.listen.Listen(id)
			if !h.catchUp(ctx, id, last, send) {
				return
			}
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			w.Flush()
		}
	}
}

// streamMember is a customer's SSE stream as a rooms.Member.
type streamMember struct {
	revoked chan struct{}
	once    sync.Once
}

func (m *streamMember) SocketID() string { return "" }
func (m *streamMember) Revoked(string)   { m.once.Do(func() { close(m.revoked) }) }

// admit registers a customer's stream with the version of its token; the
// returned channel is closed when that token is replaced (never for staff),
// and forget is called when the stream ends. The caller listens first: a
// token replaced in between is refused here.
func (h *streams) admit(caller Caller, o orders.Order) (revoked <-chan struct{}, forget func(), err error) {
	m := &streamMember{revoked: make(chan struct{})}
	if caller.Trusted() {
		return m.revoked, func() {}, nil
	}
	if !h.act.pub.Admit(o.ID, m, o.TokenVersion) {
		return nil, nil, forbidden("this tracking token was replaced")
	}
	return m.revoked, func() { h.act.pub.Forget(o.ID, m) }, nil
}

func (h *streams) catchUp(ctx context.Context, id string, last int64, send func(...rooms.Delivery) bool) bool {
	evs, err := h.events.Events(ctx, id, last)
	if err != nil {
		h.log.Warn("sse catch-up failed", "order", id, "err", err)
		return false
	}
	return send(stored(evs)...)
}

// stored wraps events read from the store, not encoded yet.
func stored(evs []orders.Event) []rooms.Delivery {
	ds := make([]rooms.Delivery, len(evs))
	for i, e := range evs {
		ds[i].Event = e
	}
	return ds
}

// lastEventID reads Last-Event-ID from the header or the lastEventId query.
func lastEventID(c *gin.Context) (int64, error) {
	v := c.GetHeader("Last-Event-ID")
	if v == "" {
		v = c.Query("lastEventId")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("Last-Event-ID: must be a non-negative integer (a seq)")
	}
	return n, nil
}
