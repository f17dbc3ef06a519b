// Package handlers is every way into ordercast: the orders API, the SSE
// stream, the Socket.IO events, the pages and health. router.go builds each
// handler with only what it uses and holds every route; handlers reach
// sockets only through the Publisher (rooms.Hub), never emitting to rooms.
package handlers

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/limits"
	"github.com/ordercast/ordercast/origin"
	"github.com/ordercast/ordercast/presence"
	"github.com/ordercast/ordercast/store"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Config of the ways in.
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
	// streams (0: no cap). See httplimits.go.
	HTTPRatePerIP    float64
	HTTPBurstPerIP   int
	ConnectionsPerIP int
	// TrustedProxies may set X-Forwarded-For; nobody else can (CIDRs or IPs).
	TrustedProxies []string
	// WebhookSecret, when set, makes API-key POSTs carry a signature
	// (signature.go).
	WebhookSecret string
	// IdempotencyTTL is how long Idempotency-Key records are kept, and
	// IdempotencyLease how long a claim holds its key while the request
	// runs; 0: DefaultIdempotencyTTL, DefaultIdempotencyLease.
	IdempotencyTTL   time.Duration
	IdempotencyLease time.Duration
}

// Deps are what the ways in are built from.
type Deps struct {
	Store     store.Store
	Publisher Publisher
	Streams   Listener
	Signer    *auth.Signer
	APIKey    auth.APIKey
	// Sealer encrypts the responses kept for Idempotency-Key retries; nil:
	// one from a random secret, which only this process can open.
	Sealer *auth.Sealer
	Log    *slog.Logger
	Checks []Check
	// Draining is closed when the graceful shutdown starts: /readyz answers
	// 503 from then on. Stopping is closed when the drain is over: SSE
	// streams end with a retry hint.
	Draining, Stopping <-chan struct{}
	// Now may be nil (time.Now).
	Now func() time.Time
	// Acks may be nil.
	Acks AckObserver
	// Replies may be nil: each ack is written at once.
	Replies ReplyBatcher
	// Desk and Presence may be nil when Publisher is a rooms.Hub (it is
	// both the desk and the book's notifier).
	Desk     Desk
	Presence Presence

	// Socket is the Engine.IO handler, mounted at /socket.io/.
	Socket http.Handler
	// Public holds the pages (*.html), static/ and assets/.
	Public fs.FS
	// Metrics, when not nil, is served at /metrics.
	Metrics http.Handler
	// Observe, when not nil, wraps every request (HTTP metrics).
	Observe gin.HandlerFunc
}

// Router is every way in: the HTTP routes, and the Socket.IO events once
// Attach has registered them.
type Router struct {
	*gin.Engine
	events *socketEvents
	limits *addressLimits
}

// SocketServer is the Socket.IO server the events are registered on.
type SocketServer interface {
	Use(socket.NamespaceMiddleware) *socket.Server
	On(event string, listeners ...types.EventListener) error
}

// Sessions reports the Engine.IO sessions that open (sockets.Server).
type Sessions interface {
	OnSession(fn func(r *http.Request) (closed func()))
	// OnLeave reports every room a socket of this process leaves, with its
	// Data (presence follows the order rooms: desk.go).
	OnLeave(fn func(room string, data any))
}

// New builds every handler from what it uses, and the routes.
func New(cfg Config, d Deps) *Router {
	if cfg.SSEHeartbeat <= 0 {
		cfg.SSEHeartbeat = 15 * time.Second
	}
	if cfg.EventRate <= 0 {
		cfg.EventRate, cfg.EventBurst = 50, 100
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Stopping == nil {
		d.Stopping = make(chan struct{})
	}
	if d.Draining == nil {
		d.Draining = d.Stopping
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if cfg.IdempotencyLease <= 0 {
		cfg.IdempotencyLease = DefaultIdempotencyLease
	}
	if d.Sealer == nil {
		d.Sealer, _ = auth.NewSealer([]byte(auth.RandomString(32)))
	}
	if d.Desk == nil {
		d.Desk, _ = d.Publisher.(Desk)
	}
	if d.Presence == nil {
		if n, ok := d.Publisher.(presence.Notifier); ok {
			d.Presence = presence.New(n, d.Now)
		}
	}
	act := &orderActions{store: d.Store, pub: d.Publisher, desk: d.Desk, now: d.Now}
	creds := credentials{apiKey: d.APIKey, signer: d.Signer}
	lim := &addressLimits{}
	if cfg.HTTPRatePerIP > 0 {
		lim.rate = limits.NewPerAddress(cfg.HTTPRatePerIP, cfg.HTTPBurstPerIP, d.Now)
	}
	if cfg.ConnectionsPerIP > 0 {
		lim.conns = limits.NewConns(cfg.ConnectionsPerIP)
	}
	var webhook *webhookVerifier
	if cfg.WebhookSecret != "" {
		webhook = newWebhookVerifier(cfg.WebhookSecret, d.Now)
	}
	api := &ordersAPI{act: act, list: d.Store, maxBody: cfg.MaxMessageBytes}
	idem := &idempotency{store: d.Store, sealer: d.Sealer, service: d.APIKey.Fingerprint(), maxBody: cfg.MaxMessageBytes,
		ttl: cfg.IdempotencyTTL, lease: cfg.IdempotencyLease, now: d.Now, log: d.Log}
	sse := &streams{act: act, events: d.Store, listen: d.Streams, heartbeat: cfg.SSEHeartbeat, stopping: d.Stopping, log: d.Log}
	hc := &health{checks: d.Checks, draining: d.Draining}

	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Only --trusted-proxies may name the client in X-Forwarded-For; gin
	// would otherwise believe anyone, and per-IP limits would be void.
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		d.Log.Error("ignoring --trusted-proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(recoverJSON(d.Log), requestLog(d.Log))
	if d.Observe != nil {
		r.Use(d.Observe)
	}
	r.Use(allowOrigins(cfg.AllowedOrigins), creds.read, lim.limitHTTP)
	r.NoRoute(func(c *gin.Context) { abort(c, &Error{http.StatusNotFound, CodeNotFound, "no such route"}) })
	r.NoMethod(func(c *gin.Context) {
		abort(c, &Error{http.StatusMethodNotAllowed, CodeBadRequest, "method not allowed"})
	})

	r.GET("/healthz", hc.healthz)
	r.GET("/readyz", hc.readyz)
	if d.Metrics != nil {
		r.GET("/metrics", gin.WrapH(d.Metrics))
	}

	r.GET("/api/openapi.json", openAPI)

	sio := gin.WrapH(d.Socket)
	r.GET("/socket.io/*any", lim.limitHandshakes, sio)
	r.POST("/socket.io/*any", lim.limitHandshakes, sio)

	g := r.Group("/api", requireValid, webhook.require(cfg.MaxMessageBytes))
	g.POST("/orders", requireService, idem.guard, api.create)
	g.GET("/orders", requireTrusted, api.listOrders)
	g.GET("/orders/:id", api.get)
	g.POST("/orders/:id/status", requireTrusted, idem.guard, api.changeStatus)
	g.POST("/orders/:id/tracking-token", requireService, idem.guard, api.reissueToken)
	g.GET("/orders/:id/stream", lim.holdConnection, sse.stream)

	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/support") })
	r.GET("/track/:id", page(d.Public, "track.html"))
	r.GET("/support", page(d.Public, "support.html"))
	r.GET("/admin", page(d.Public, "admin.html"))
	if static, err := fs.Sub(d.Public, "static"); err == nil {
		r.StaticFS("/static", http.FS(static))
	}
	if assets, err := fs.Sub(d.Public, "assets"); err == nil {
		r.StaticFS("/assets", http.FS(assets))
	}

	events := &socketEvents{act: act, signer: d.Signer, rate: cfg.EventRate, burst: cfg.EventBurst,
		now: d.Now, acks: d.Acks, replies: d.Replies, book: d.Presence, log: d.Log}
	events.events = events.handlers()
	return &Router{Engine: r, events: events, limits: lim}
}

// Attach registers the Socket.IO side on io: the handshake's credential
// (wrapped by observe when not nil: metrics), every client event, the
// connection log, and the per-address connection cap on sessions.
func (r *Router) Attach(io SocketServer, sessions Sessions, observe func(socket.NamespaceMiddleware) socket.NamespaceMiddleware) {
	mw := socket.NamespaceMiddleware(r.events.authenticate)
	if observe != nil {
		mw = observe(mw)
	}
	io.Use(mw)
	_ = io.On("connection", func(args ...any) {
		if s, ok := args[0].(*socket.Socket); ok {
			r.events.logConnections(s)
			r.events.readmit(s)
			r.events.connected(s)
		}
	})
	r.limits.trackConnections(sessions)
	sessions.OnLeave(r.events.leftRoom)
}
