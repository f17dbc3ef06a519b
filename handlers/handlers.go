// Package handlers is every way into ordercast: the HTTP API, the SSE
// stream, Socket.IO events, pages and health. Handlers reach sockets only
// through the Publisher (the rooms.Hub); they never emit to rooms.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/limits"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/origin"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/store"
)

// Store is the persistence handlers need.
type Store = store.Store

// Publisher delivers stored events to whoever watches them.
type Publisher interface {
	Publish(e orders.Event)
	OrderCreated(o orders.Order)
	Listen(orderID string) (*rooms.Listener, func())
	// Watch notes that a subscriber of an order has its events up to seq,
	// so that the live ones that follow reach it in seq order.
	Watch(orderID string, seq int64)
}

// AckObserver is told the result of every ack a socket event sends:
// "ok" or the error code (metrics).
type AckObserver interface {
	Ack(event, result string)
}

// Check is one readiness check (store, Redis).
type Check struct {
	Name string
	Fn   func(context.Context) error
	// Degraded marks a dependency the process keeps serving without
	// (Redis: each process then serves its own sockets): /readyz still
	// answers 503 while it fails, with status "degraded".
	Degraded bool
}

// Config of the handlers.
type Config struct {
	MaxMessageBytes int64
	AllowedOrigins  origin.List
	// SSEHeartbeat is the interval of comment lines on idle streams.
	SSEHeartbeat time.Duration
	// EventRate and EventBurst limit each socket's events.
	EventRate  float64
	EventBurst int
	// HTTPRatePerIP and HTTPBurstPerIP limit each address's HTTP requests
	// (0: no limit); ConnectionsPerIP caps its Socket.IO sessions and SSE
	// streams (0: no cap). See ratelimit.go.
	HTTPRatePerIP    float64
	HTTPBurstPerIP   int
	ConnectionsPerIP int
	// TrustedProxies may set X-Forwarded-For; nobody else can (CIDRs or IPs).
	TrustedProxies []string
	// WebhookSecret, when set, makes API-key POSTs carry a signature
	// (signature.go).
	WebhookSecret string
}

// Deps are what handlers are built from.
type Deps struct {
	Store     Store
	Publisher Publisher
	Signer    *auth.Signer
	APIKey    auth.APIKey
	Log       *slog.Logger
	Checks    []Check
	// ShuttingDown is closed when the server starts its graceful shutdown.
	ShuttingDown <-chan struct{}
	// Now may be nil (time.Now).
	Now func() time.Time
	// Acks may be nil.
	Acks AckObserver
}

// Handlers holds the dependencies of every way in.
type Handlers struct {
	cfg    Config
	store  Store
	pub    Publisher
	signer *auth.Signer
	apiKey auth.APIKey
	log    *slog.Logger
	checks []Check
	down   <-chan struct{}
	now    func() time.Time
	acks   AckObserver

	ipRate  *limits.PerAddress // nil: no per-IP request limit
	conns   *limits.Conns      // nil: no per-IP connection cap
	webhook *webhookVerifier   // nil: service calls are not signed
}

// New returns handlers over deps.
func New(cfg Config, d Deps) *Handlers {
	if cfg.SSEHeartbeat <= 0 {
		cfg.SSEHeartbeat = 15 * time.Second
	}
	if cfg.EventRate <= 0 {
		cfg.EventRate, cfg.EventBurst = 50, 100
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ShuttingDown == nil {
		d.ShuttingDown = make(chan struct{})
	}
	h := &Handlers{cfg: cfg, store: d.Store, pub: d.Publisher, signer: d.Signer, apiKey: d.APIKey,
		log: d.Log, checks: d.Checks, down: d.ShuttingDown, now: d.Now, acks: d.Acks}
	if cfg.HTTPRatePerIP > 0 {
		h.ipRate = limits.NewPerAddress(cfg.HTTPRatePerIP, cfg.HTTPBurstPerIP, d.Now)
	}
	if cfg.ConnectionsPerIP > 0 {
		h.conns = limits.NewConns(cfg.ConnectionsPerIP)
	}
	if cfg.WebhookSecret != "" {
		h.webhook = newWebhookVerifier(cfg.WebhookSecret, d.Now)
	}
	return h
}
