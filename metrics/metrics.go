// Package metrics exposes ordercast's Prometheus metrics: sockets, rooms,
// Socket.IO events and acks, broadcast latency, HTTP requests, SSE streams,
// store and Redis errors, and the Go runtime. Every hook is attached from
// outside the code it observes (gin middleware, Socket.IO listeners, a store
// decorator, a rooms.Observer): only main.go imports this package.
//
// Label values are always bounded: routes are gin's route patterns, event
// names a client sends are kept only when the socket handles them, and
// everything else is folded into "other".
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "ordercast"

// other is the label value of anything outside a bounded set.
const other = "other"

// Metrics owns a registry and every ordercast collector in it. It is safe for
// concurrent use. The zero value is not usable: call New.
type Metrics struct {
	reg *prometheus.Registry

	connects    *prometheus.CounterVec
	disconnects *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	eventsIn    *prometheus.CounterVec
	eventsOut   *prometheus.CounterVec
	acks        *prometheus.CounterVec
	broadcasts  *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	httpReqs    *prometheus.CounterVec
	httpTime    *prometheus.HistogramVec
	storeErrs   *prometheus.CounterVec
	redisErrs   *prometheus.CounterVec

	// requests counts what clients asked of the server: HTTP requests other
	// than the Socket.IO transport's, and socket events received (never
	// heartbeats). The idle reclaim reads it (Requests).
	requests atomic.Uint64
}

// Requests is how many requests and socket events clients have sent so far
// (not the Socket.IO transport's own requests, nor heartbeats).
func (m *Metrics) Requests() uint64 { return m.requests.Load() }

// latencyBuckets cover a broadcast from a fraction of a millisecond (SQLite,
// one process) to seconds (a store or Redis in trouble).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// httpBuckets add long polls and SSE streams (which last until the client
// leaves) to the default request buckets.
var httpBuckets = append(append([]float64{}, prometheus.DefBuckets...), 30, 60)

// New returns metrics registered in a registry of their own (never the
// global default one), with the Go runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(h)
		return h
	}
	m := &Metrics{
		reg:         reg,
		connects:    counter("socket_connects_total", "Socket.IO connections accepted, by namespace and transport at connect.", "namespace", "transport"),
		disconnects: counter("socket_disconnects_total", "Socket.IO disconnections, by namespace and reason.", "namespace", "reason"),
		rejected:    counter("socket_handshakes_rejected_total", "Socket.IO handshakes refused by a middleware, by error code.", "code"),
		eventsIn:    counter("socket_events_received_total", "Socket.IO events received from clients, by event name (other: an event the server does not handle).", "event"),
		eventsOut:   counter("socket_events_sent_total", "Socket.IO events sent to sockets of this process, one per receiving socket, by event name.", "event"),
		acks:        counter("socket_acks_total", "Socket.IO acks sent, by event and result (ok or the error code).", "event", "result"),
		broadcasts:  counter("broadcasts_total", "Broadcasts made by the hub, by event name.", "event"),
		latency:     histogram("broadcast_latency_seconds", "Time from an event's creation (before the store append) to the end of its emit.", latencyBuckets, "event"),
		httpReqs:    counter("http_requests_total", "HTTP requests, by method, route pattern and status.", "method", "route", "status"),
		httpTime:    histogram("http_request_duration_seconds", "HTTP request duration, by method and route pattern (long polls and SSE streams included).", httpBuckets, "method", "route"),
		storeErrs:   counter("store_errors_total", "Store operations that failed for a reason other than the request (not found, duplicate, invalid transition, client gone), by operation.", "op"),
		redisErrs:   counter("redis_errors_total", "Redis operations that failed, by operation.", "op"),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the metrics live, for callers adding their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, Timeout: 10 * time.Second})
}
