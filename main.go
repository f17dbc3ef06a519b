// Command ordercast is a real-time order-tracking server: a gin app that
// mounts a Socket.IO server. main.go is wiring only: config -> store ->
// Socket.IO server -> hub -> router -> http.Server; signals and shutdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/cluster"
	"github.com/ordercast/ordercast/handlers"
	"github.com/ordercast/ordercast/internal/redislog"
	"github.com/ordercast/ordercast/metrics"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/public"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
	"github.com/ordercast/ordercast/store"
	"github.com/redis/go-redis/v9"
)

const usage = `ordercast: real-time order tracking

Usage:
  ordercast [serve] [flags]     run the server (the default)
  ordercast token --role support|admin --name NAME [--ttl 12h] [flags]
                                print a staff token signed with the configured secret
Run "ordercast serve -h" or "ordercast token -h" for flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !(len(args[0]) > 0 && args[0][0] == '-') {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(args, stderr)
	case "token":
		err = tokenCmd(args, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flagHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ordercast:", err)
		return 1
	}
	return 0
}

var flagHelp = errors.New("help requested")

func tokenCmd(args []string, stdout io.Writer) error {
	c, err := parseToken(args)
	if err != nil {
		return helpOr(err)
	}
	secret, err := auth.LoadSigningSecret(c.DataDir, c.Secret)
	if err != nil {
		return err
	}
	tok, err := auth.NewSigner([]byte(secret), nil).Issue(c.Name, c.Role, c.TTL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func helpOr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flagHelp
	}
	return err
}

func serveCmd(args []string, stderr io.Writer) error {
	cfg, err := parseServe(args)
	if err != nil {
		return helpOr(err)
	}
	log := newLogger(cfg, stderr)
	tuneGC(cfg.MemoryLimit, os.LookupEnv, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return serve(ctx, cfg, log, stderr)
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	text := cfg.LogFormat == "text"
	if cfg.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				text = true
			}
		}
	}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// orderStore is what serve needs of a store beyond the handlers' interface.
type orderStore interface {
	handlers.Store
	Ping(context.Context) error
	Close() error
}

func openStore(ctx context.Context, cfg config) (orderStore, error) {
	if cfg.DatabaseURL != "" {
		return store.OpenPostgres(ctx, cfg.DatabaseURL)
	}
	return store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "ordercast.db"))
}

func serve(ctx context.Context, cfg config, log *slog.Logger, stderr io.Writer) error {
	secrets, err := auth.LoadSecrets(cfg.DataDir, cfg.APIKey, cfg.Secret)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	m := metrics.New()
	// With Redis, broadcasts, SSE events and stats span every process.
	var node *cluster.Node
	if cfg.RedisURL != "" {
		redislog.Route(log) // process-global: go-redis has one logger
		if node, err = cluster.New(cluster.Config{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix, Hooks: []redis.Hook{m.RedisHook()}}, log); err != nil {
			return err
		}
		defer node.Close()
		if cfg.DatabaseURL == "" {
			log.Warn("--redis-url without --database-url: this process keeps its orders in its own SQLite file; processes that share rooms must share a PostgreSQL database")
		}
		if cfg.RecoveryWindow > 0 {
			// The pub/sub Redis adapter keeps no sessions (see cluster).
			log.Info("connection state recovery is off with Redis: reconnecting clients resync by seq")
		}
	}
	sockCfg := sockets.Config{
		Transports:      cfg.Transports,
		MaxMessageBytes: cfg.MaxMessageBytes,
		ConnectTimeout:  cfg.ConnectTimeout,
		RecoveryWindow:  cfg.RecoveryWindow,
		AllowOrigin:     cfg.AllowedOrigins.Allows,
	}
	if node != nil {
		sockCfg.Adapter = node.Adapter()
	}
	sio := sockets.New(sockCfg)
	observed := m.Store(st)
	hub := rooms.NewHub(sio, observed, log, m)
	m.Watch(sio.IO, hub.Listeners)
	var pub handlers.Publisher = hub
	if text := os.Getenv(crashBeforePublishEnv); text != "" {
		pub = crashBeforePublish{Publisher: hub, text: text}
	}
	checks := []handlers.Check{{Name: "store", Fn: m.Check(metrics.DepStore, st.Ping)}}
	var gather func(rooms.Stats) rooms.Stats
	if node != nil {
		pub = node.Relay(pub)
		checks = append(checks, handlers.Check{Name: "redis", Fn: m.Check(metrics.DepRedis, node.Check), Degraded: true})
		gather = node.Gather
		node.Start(sio, hub)
	}
	shuttingDown := make(chan struct{})
	signer := auth.NewSigner([]byte(secrets.Secret), nil)
	h := handlers.New(handlers.Config{
		MaxMessageBytes: cfg.MaxMessageBytes,
		AllowedOrigins:  cfg.AllowedOrigins,
		EventRate:       cfg.SocketRate,
		EventBurst:      int(cfg.SocketBurst),

		HTTPRatePerIP:    cfg.HTTPRatePerIP,
		HTTPBurstPerIP:   int(cfg.HTTPBurstPerIP),
		ConnectionsPerIP: int(cfg.ConnectionsPerIP),
		TrustedProxies:   cfg.TrustedProxies,
		WebhookSecret:    cfg.WebhookSecret,
	}, handlers.Deps{
		Store:        observed,
		Publisher:    pub,
		Signer:       signer,
		APIKey:       auth.NewAPIKey(secrets.APIKey),
		Log:          log,
		Checks:       checks,
		Acks:         m,
		ShuttingDown: shuttingDown,
	})
	sio.IO.Use(m.Handshakes(h.Authenticate))
	h.LogConnections(sio.IO)
	h.TrackConnections(sio)

	gin.SetMode(gin.ReleaseMode)
	mounts := handlers.Mounts{Socket: sio, Public: public.Files, Observe: m.HTTP}
	if cfg.MetricsAddr == "" {
		mounts.Metrics = m.Handler()
	}
	router := h.Router(mounts)
	// net/http's own complaints go to the structured log too.
	httpLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpLog}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	addr := ln.Addr().String()
	// The metrics listener (and pprof, only there) when --metrics-addr is set.
	var metricsSrv *http.Server
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on %s (--metrics-addr): %w", cfg.MetricsAddr, err)
		}
		metricsSrv = &http.Server{Handler: m.Mux(cfg.Pprof), ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpLog}
	}

	statsCtx, stopStats := context.WithCancel(context.Background())
	defer stopStats()
	go hub.RunStats(statsCtx, time.Second, gather)

	if len(secrets.Generated) > 0 || cfg.Demo {
		announce(stderr, addr, secrets, signer)
	}
	if cfg.Demo {
		go runDemo(statsCtx, log, "http://"+loopback(addr), secrets.APIKey)
	}

	serveErr := make(chan error, 2)
	if metricsSrv != nil {
		go func() { serveErr <- metricsSrv.Serve(mln) }()
		log.Info("metrics listening", "addr", mln.Addr().String(), "pprof", cfg.Pprof)
	}
	go func() { serveErr <- srv.Serve(ln) }()
	if !public.HasClientBundle() {
		log.Warn("built without the socket.io-client bundle: the pages cannot go live; build with `make build`")
	}
	log.Info("listening", "addr", addr, "transports", cfg.Transports, "store", storeKind(cfg))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Graceful shutdown: readiness goes false, SSE streams get a retry hint,
	// Socket.IO clients are disconnected at the transport level (so they
	// reconnect by themselves), in-flight requests finish, the store closes.
	log.Info("shutting down")
	close(shuttingDown)
	stopStats()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(sctx) }() // stops accepting first
	if node != nil {
		node.Stopping()
	}
	sio.Close()
	if err := <-shutdown; err != nil {
		log.Warn("shutdown incomplete", "err", err)
		_ = srv.Close()
	}
	// Metrics stay scrapable while the main listener drains.
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(sctx); err != nil {
			_ = metricsSrv.Close()
		}
	}
	log.Info("stopped")
	return nil
}

func storeKind(cfg config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// loopback turns a wildcard listen address into one a local client can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// announce prints what a new user needs to try everything at once. It
// prints secrets, so only on a first start or with --demo.
func announce(w io.Writer, addr string, s auth.Secrets, signer *auth.Signer) {
	base := "http://" + loopback(addr)
	tok, err := signer.Issue("Support", auth.RoleSupport, 12*time.Hour)
	if err != nil {
		return
	}
	admin, _ := signer.Issue("Admin", auth.RoleAdmin, 12*time.Hour)
	fmt.Fprintf(w, `
ordercast is starting on %[1]s
  API key:            %[2]s
  staff sign-in:      %[1]s/support#token=%[3]s
  admin dashboard:    %[1]s/admin#token=%[4]s
  try it:
    curl -s -X POST %[1]s/api/orders \
      -H 'Authorization: Bearer %[2]s' -H 'Content-Type: application/json' \
      -d '{"customer":"Ada Lovelace","items":[{"name":"Tea","qty":2}],"total":1250}'
  then open the trackingUrl it returns.

`, base, s.APIKey, tok, admin)
}

// crashBeforePublishEnv is a fault point for the tests only: a chat message
// with exactly this text makes the process exit between the store's commit
// and the broadcast, as a SIGKILL there would (e2e/ordering.test.mjs).
const crashBeforePublishEnv = "ORDERCAST_TEST_CRASH_BEFORE_PUBLISH"

type crashBeforePublish struct {
	handlers.Publisher
	text string
}

func (c crashBeforePublish) Publish(e orders.Event) {
	if e.Type == orders.TypeMessage && e.Text == c.text {
		os.Exit(137)
	}
	c.Publisher.Publish(e)
}
