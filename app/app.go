// Package app is ordercast's composition root: New builds every part from
// the configuration (store, Socket.IO server, hub, cluster, router,
// listeners), Run serves until its context ends, and Shutdown stops the
// parts in the documented order. main.go only reads flags and signals.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/cluster"
	"github.com/ordercast/ordercast/handlers"
	"github.com/ordercast/ordercast/internal/redislog"
	"github.com/ordercast/ordercast/metrics"
	"github.com/ordercast/ordercast/presence"
	"github.com/ordercast/ordercast/public"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
	"github.com/ordercast/ordercast/store"
	"github.com/redis/go-redis/v9"
)

// App is one ordercast process.
type App struct {
	cfg     Config
	log     *slog.Logger
	secrets auth.Secrets
	signer  *auth.Signer

	store   store.Store
	node    *cluster.Node // nil without Redis
	sio     *sockets.Server
	hub     *rooms.Hub
	stats   *rooms.Reporter
	gather  func(rooms.Stats) rooms.Stats
	srv     *http.Server
	ln      net.Listener
	metrics *http.Server // nil without --metrics-addr
	mln     net.Listener

	// draining is closed when the shutdown starts (/readyz answers 503);
	// stopping when the drain is over and the parts stop.
	draining, stopping chan struct{}
	stopStats          context.CancelFunc
	statsCtx           context.Context

	requests     func() uint64 // metrics.Requests
	served       atomic.Bool   // Run serves the listeners
	shutdownOnce sync.Once
	shutdownErr  error
}

// Requests is how many requests and socket events clients have sent
// (not the Socket.IO transport's own requests, nor heartbeats).
func (a *App) Requests() uint64 { return a.requests() }

// New builds the app and opens its listeners; nothing is served before Run.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, draining: make(chan struct{}), stopping: make(chan struct{})}
	var err error
	if a.secrets, err = auth.LoadSecrets(cfg.DataDir, cfg.APIKey, cfg.Secret); err != nil {
		return nil, err
	}
	a.signer = auth.NewSigner([]byte(a.secrets.Secret), nil)
	if a.store, err = openStore(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	m := metrics.New()
	a.requests = m.Requests
	if cfg.RedisURL != "" {
		if err := a.openCluster(m); err != nil {
			_ = a.store.Close()
			return nil, err
		}
	}
	a.sio = sockets.New(a.socketConfig())
	router, err := a.wire(m)
	if err != nil {
		a.closeParts()
		return nil, err
	}
	if err := a.listen(router, m); err != nil {
		a.closeParts()
		return nil, err
	}
	return a, nil
}

func openStore(ctx context.Context, cfg Config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		return store.OpenPostgres(ctx, cfg.DatabaseURL)
	}
	return store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "ordercast.db"))
}

// openCluster joins the processes sharing Redis: broadcasts, SSE events,
// stats and the sequencing of live events span them.
func (a *App) openCluster(m *metrics.Metrics) error {
	redislog.Route(a.log) // process-global: go-redis has one logger
	node, err := cluster.New(cluster.Config{URL: a.cfg.RedisURL, Prefix: a.cfg.RedisPrefix, Hooks: []redis.Hook{m.RedisHook()}}, a.log)
	if err != nil {
		return err
	}
	a.node = node
	if a.cfg.DatabaseURL == "" {
		a.log.Warn("--redis-url without --database-url: this process keeps its orders in its own SQLite file; processes that share rooms must share a PostgreSQL database")
	}
	if a.cfg.RecoveryWindow > 0 {
		// The pub/sub Redis adapter keeps no sessions (see cluster).
		a.log.Info("connection state recovery is off with Redis: reconnecting clients resync by seq")
	}
	return nil
}

func (a *App) socketConfig() sockets.Config {
	c := sockets.Config{
		Transports:      a.cfg.Transports,
		MaxMessageBytes: a.cfg.MaxMessageBytes,
		ConnectTimeout:  a.cfg.ConnectTimeout,
		RecoveryWindow:  a.cfg.RecoveryWindow,
		AllowOrigin:     a.cfg.AllowedOrigins.Allows,
		ForeignPeers:    a.cfg.RedisNodePeers,
	}
	if a.node != nil {
		c.Adapter = a.node.Adapter()
	}
	return c
}

// wire builds the hub and the router on the store and the Socket.IO server.
func (a *App) wire(m *metrics.Metrics) (http.Handler, error) {
	observed := m.Store(a.store)
	var cache *store.Cache
	if a.cfg.CacheOrders > 0 {
		// Handlers read through the cache; the hub fills its gaps from the
		// store itself.
		cache = store.NewCache(a.store, int(a.cfg.CacheOrders))
	}
	streams := rooms.NewStreams()
	a.stats = rooms.NewReporter(a.sio, a.sio, a.log)
	a.hub = rooms.NewHub(a.sio, streams, observed, a.log, m, a.stats)
	book := presence.New(a.hub, nil)
	m.Watch(a.sio.IO, a.sio, streams.Len, handlers.IsClientEvent)
	var pub handlers.Publisher = a.hub
	if text := os.Getenv(crashBeforePublishEnv); text != "" {
		pub = crashBeforePublish{Publisher: a.hub, text: text}
	}
	if customer := os.Getenv(holdCreatedEnv); customer != "" {
		pub = holdCreated{Publisher: pub, customer: customer, log: a.log}
	}
	checks := []handlers.Check{{Name: "store", Fn: m.Check(metrics.DepStore, a.store.Ping)}}
	if a.node != nil {
		pub = a.node.Relay(pub)
		checks = append(checks, handlers.Check{Name: "redis", Fn: m.Check(metrics.DepRedis, a.node.Check), Degraded: true})
		a.gather = a.node.Gather
		a.node.SharePresence(book)
		var local cluster.Local = struct {
			*rooms.Hub
			*rooms.Streams
		}{a.hub, streams}
		if cache != nil {
			local = recording{Local: local, cache: cache}
		}
		a.node.Start(a.sio, local)
	}
	handlerStore := observed
	if cache != nil {
		handlerStore = m.Store(cache)
	}
	sealer, err := auth.NewSealer([]byte(a.secrets.Secret))
	if err != nil {
		return nil, err
	}
	deps := handlers.Deps{
		Store: handlerStore, Publisher: pub, Streams: streams, Signer: a.signer, APIKey: auth.NewAPIKey(a.secrets.APIKey),
		Sealer: sealer, Log: a.log, Checks: checks, Acks: m, Draining: a.draining, Stopping: a.stopping,
		Socket: a.sio, Replies: a.sio, Public: public.Files, Observe: m.HTTP, Desk: a.hub, Presence: book,
	}
	if a.cfg.MetricsAddr == "" {
		deps.Metrics = m.Handler()
	}
	gin.SetMode(gin.ReleaseMode)
	router := handlers.New(handlers.Config{
		MaxMessageBytes:  a.cfg.MaxMessageBytes,
		AllowedOrigins:   a.cfg.AllowedOrigins,
		EventRate:        a.cfg.SocketRate,
		EventBurst:       int(a.cfg.SocketBurst),
		HTTPRatePerIP:    a.cfg.HTTPRatePerIP,
		HTTPBurstPerIP:   int(a.cfg.HTTPBurstPerIP),
		ConnectionsPerIP: int(a.cfg.ConnectionsPerIP),
		TrustedProxies:   a.cfg.TrustedProxies,
		WebhookSecret:    a.cfg.WebhookSecret,
	}, deps)
	router.Attach(a.sio.IO, a.sio, m.Handshakes)
	return router, nil
}

// listen opens the main listener and, with --metrics-addr, the metrics one.
func (a *App) listen(router http.Handler, m *metrics.Metrics) error {
	// net/http's own complaints go to the structured log too.
	httpLog := slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	a.srv = &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpLog}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	a.ln = ln
	if a.cfg.MetricsAddr != "" {
		if a.mln, err = net.Listen("tcp", a.cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on %s (--metrics-addr): %w", a.cfg.MetricsAddr, err)
		}
		a.metrics = &http.Server{Handler: m.Mux(a.cfg.Pprof), ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpLog}
	}
	return nil
}

// Handler is the app's HTTP handler: every route and the Socket.IO endpoint.
func (a *App) Handler() http.Handler { return a.srv.Handler }

// Addr is the main listener's address.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Run serves until ctx ends or a listener fails, then shuts down within
// the configured timeout. stderr gets the first-start announcement.
func (a *App) Run(ctx context.Context, stderr io.Writer) error {
	a.statsCtx, a.stopStats = context.WithCancel(context.Background())
	go a.stats.Run(a.statsCtx, time.Second, a.gather)
	go purgeIdempotencyKeys(a.statsCtx, a.store, a.log, time.Minute)
	if len(a.secrets.Generated) > 0 || a.cfg.Demo {
		announce(stderr, a.Addr(), a.secrets, a.signer)
	}
	if a.cfg.Demo {
		go runDemo(a.statsCtx, a.log, "http://"+loopback(a.Addr()), a.secrets.APIKey)
	}
	a.served.Store(true)
	serveErr := make(chan error, 2)
	if a.metrics != nil {
		go func() { serveErr <- a.metrics.Serve(a.mln) }()
		a.log.Info("metrics listening", "addr", a.mln.Addr().String(), "pprof", a.cfg.Pprof)
	}
	go func() { serveErr <- a.srv.Serve(a.ln) }()
	if !public.HasClientBundle() {
		a.log.Warn("built without the socket.io-client bundle: the pages cannot go live; build with `make build`")
	}
	a.log.Info("listening", "addr", a.Addr(), "transports", a.cfg.Transports, "store", storeKind(a.cfg))

	var runErr error
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownDelay+a.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(runErr, a.Shutdown(sctx))
}

func storeKind(cfg Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}
