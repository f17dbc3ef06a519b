package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ordercast/ordercast/app"
	"github.com/ordercast/ordercast/sockets"
)

// config is validated once at start; flags win over the environment.
type config = app.Config

// envFlags registers flags whose defaults come from the environment.
type envFlags struct {
	fs   *flag.FlagSet
	errs []error
}

func (e *envFlags) env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func (e *envFlags) string(p *string, name, env, def, usage string) {
	e.fs.StringVar(p, name, e.env(env, def), usage+" (env "+env+")")
}

func (e *envFlags) bool(p *bool, name, env string, def bool, usage string) {
	v, err := strconv.ParseBool(e.env(env, strconv.FormatBool(def)))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", env, err))
	}
	e.fs.BoolVar(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) int64(p *int64, name, env string, def int64, usage string) {
	v, err := strconv.ParseInt(e.env(env, strconv.FormatInt(def, 10)), 10, 64)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", env, err))
	}
	e.fs.Int64Var(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) float(p *float64, name, env string, def float64, usage string) {
	v, err := strconv.ParseFloat(e.env(env, strconv.FormatFloat(def, 'g', -1, 64)), 64)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", env, err))
	}
	e.fs.Float64Var(p, name, v, usage+" (env "+env+")")
}

func (e *envFlags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	v, err := time.ParseDuration(e.env(env, def.String()))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %w", env, err))
	}
	e.fs.DurationVar(p, name, v, usage+" (env "+env+")")
}

// commonFlags are shared by serve and token, so both find the same secret.
func commonFlags(e *envFlags, c *config) {
	e.string(&c.DataDir, "data-dir", "ORDERCAST_DATA_DIR", "./data", "directory for the SQLite file and generated secrets")
	e.string(&c.Secret, "secret", "ORDERCAST_SECRET", "", "staff token signing secret (generated in the data dir when empty)")
}

func parseServe(args []string) (config, error) {
	var c config
	e := &envFlags{fs: flag.NewFlagSet("serve", flag.ContinueOnError)}
	var origins, transports, level, proxies, memLimit string
	commonFlags(e, &c)
	e.string(&c.Addr, "addr", "ORDERCAST_ADDR", ":8080", "listen address")
	e.string(&c.APIKey, "api-key", "ORDERCAST_API_KEY", "", "shop backend API key (generated in the data dir when empty)")
	e.string(&c.DatabaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL; empty: SQLite in the data dir")
	e.string(&c.RedisURL, "redis-url", "REDIS_URL", "", "Redis URL for the Socket.IO adapter; empty: in-memory")
	e.string(&c.RedisPrefix, "redis-prefix", "ORDERCAST_REDIS_PREFIX", "socket.io", "Redis channel prefix: the key option of Node services sharing the rooms")
	e.bool(&c.RedisNodePeers, "redis-node-peers", "ORDERCAST_REDIS_NODE_PEERS", false, "Node socket.io servers with the Redis adapter share the rooms: send them ordercast's room events too (one more adapter broadcast per event, evaluated by every process)")
	e.string(&origins, "allowed-origins", "ORDERCAST_ALLOWED_ORIGINS", "", "comma-separated origins allowed besides the same origin")
	e.string(&c.MetricsAddr, "metrics-addr", "ORDERCAST_METRICS_ADDR", "", "separate listener for /metrics (and pprof); empty: main listener")
	e.int64(&c.MaxMessageBytes, "max-message-bytes", "ORDERCAST_MAX_MESSAGE_BYTES", 1_000_000, "largest HTTP body or Socket.IO message")
	e.string(&transports, "transports", "ORDERCAST_TRANSPORTS", "polling,websocket", "Socket.IO transports")
	e.bool(&c.Demo, "demo", "ORDERCAST_DEMO", false, "create sample orders and move them along")
	e.string(&level, "log-level", "ORDERCAST_LOG_LEVEL", "info", "debug, info, warn or error")
	e.string(&c.LogFormat, "log-format", "ORDERCAST_LOG_FORMAT", "auto", "json, text, or auto (text on a terminal)")
	e.duration(&c.RecoveryWindow, "recovery-window", "ORDERCAST_RECOVERY_WINDOW", 2*time.Minute, "Socket.IO connection state recovery window; 0 disables")
	e.duration(&c.ConnectTimeout, "connect-timeout", "ORDERCAST_CONNECT_TIMEOUT", 5*time.Second, "close connections that join no namespace in time")
	e.duration(&c.ShutdownTimeout, "shutdown-timeout", "ORDERCAST_SHUTDOWN_TIMEOUT", 10*time.Second, "graceful shutdown deadline")
	e.duration(&c.ShutdownDelay, "shutdown-delay", "ORDERCAST_SHUTDOWN_DELAY", 5*time.Second, "at shutdown, answer /readyz 503 this long while serving everything else, so load balancers stop sending first; 0 for tests and development")
	e.float(&c.SocketRate, "socket-rate", "ORDERCAST_SOCKET_RATE", 50, "events per second one socket may send")
	e.int64(&c.SocketBurst, "socket-burst", "ORDERCAST_SOCKET_BURST", 100, "burst of events one socket may send")
	e.int64(&c.CacheOrders, "cache-orders", "ORDERCAST_CACHE_ORDERS", 10_000, "orders whose row and recent events are kept in memory for subscribes (least recently used go first); 0 disables")
	e.bool(&c.Pprof, "pprof", "ORDERCAST_PPROF", false, "serve /debug/pprof on the metrics listener")
	e.string(&memLimit, "memory-limit", "ORDERCAST_MEMORY_LIMIT", "0", "Go soft memory limit, e.g. 1600MiB (~80% of the container's); 0: none; GOMEMLIMIT wins")
	e.duration(&c.IdleReclaim, "idle-reclaim", "ORDERCAST_IDLE_RECLAIM", time.Second, "after this long with little allocation and no requests following a burst, collect garbage once and return it to the OS; 0: off")
	// Generous defaults: a shared NAT or one load generator on 127.0.0.1
	// (19k connections) must fit; lower them where clients don't share addresses.
	e.float(&c.HTTPRatePerIP, "http-rate-per-ip", "ORDERCAST_HTTP_RATE_PER_IP", 200, "HTTP requests per second one address may make, API key and staff excepted; 0: no limit")
	e.int64(&c.HTTPBurstPerIP, "http-burst-per-ip", "ORDERCAST_HTTP_BURST_PER_IP", 400, "burst of HTTP requests one address may make")
	e.int64(&c.ConnectionsPerIP, "connections-per-ip", "ORDERCAST_CONNECTIONS_PER_IP", 20_000, "Socket.IO connections and SSE streams one address may hold; 0: no cap")
	e.string(&proxies, "trusted-proxies", "ORDERCAST_TRUSTED_PROXIES", "", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: none")
	e.string(&c.WebhookSecret, "webhook-secret", "ORDERCAST_WEBHOOK_SECRET", "", "when set, POST /api/* calls with the API key must carry an HMAC-SHA256 signature")
	if err := e.fs.Parse(args); err != nil {
		return c, err
	}
	if err := errors.Join(e.errs...); err != nil {
		return c, err
	}
	var err error
	if c.MemoryLimit, err = parseBytes(memLimit); err != nil {
		return c, fmt.Errorf("--memory-limit: %w", err)
	}
	if c.Transports, err = sockets.ParseTransports(transports); err != nil {
		return c, fmt.Errorf("--transports: %w", err)
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("--log-level: %w", err)
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		return c, fmt.Errorf("--log-format: want json, text or auto, got %q", c.LogFormat)
	}
	if c.MaxMessageBytes < 1024 {
		return c, fmt.Errorf("--max-message-bytes: must be at least 1024")
	}
	if c.SocketRate <= 0 || c.SocketBurst < 1 {
		return c, errors.New("--socket-rate and --socket-burst: must be positive")
	}
	if c.ShutdownDelay < 0 || c.ShutdownTimeout <= 0 {
		return c, errors.New("--shutdown-delay must not be negative, --shutdown-timeout must be positive")
	}
	if c.CacheOrders < 0 {
		return c, errors.New("--cache-orders: must not be negative")
	}
	if c.DataDir == "" {
		return c, errors.New("--data-dir: must not be empty")
	}
	if c.HTTPRatePerIP < 0 || c.HTTPBurstPerIP < 1 || c.ConnectionsPerIP < 0 {
		return c, errors.New("--http-rate-per-ip, --connections-per-ip: must not be negative; --http-burst-per-ip: must be positive")
	}
	if c.TrustedProxies, err = parseProxies(proxies); err != nil {
		return c, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.RedisPrefix == "" {
		return c, errors.New("--redis-prefix: must not be empty")
	}
	if c.Pprof && c.MetricsAddr == "" {
		return c, errors.New("--pprof: needs --metrics-addr (pprof is never served on the public listener)")
	}
	return c, nil
}

type tokenConfig struct {
	config
	Role string
	Name string
	TTL  time.Duration
}

func parseToken(args []string) (tokenConfig, error) {
	var c tokenConfig
	e := &envFlags{fs: flag.NewFlagSet("token", flag.ContinueOnError)}
	commonFlags(e, &c.config)
	e.fs.StringVar(&c.Role, "role", "support", "support or admin")
	e.fs.StringVar(&c.Name, "name", "", "staff member's name (shown to customers)")
	e.fs.DurationVar(&c.TTL, "ttl", 12*time.Hour, "validity, in Go duration syntax")
	if err := e.fs.Parse(args); err != nil {
		return c, err
	}
	if err := errors.Join(e.errs...); err != nil {
		return c, err
	}
	if c.Name == "" {
		return c, errors.New("--name is required")
	}
	if c.TTL <= 0 {
		return c, errors.New("--ttl must be positive")
	}
	return c, nil
}

// parseProxies validates a comma-separated list of IPs and CIDRs.
func parseProxies(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("%q is neither an IP nor a CIDR", p)
		}
		out = append(out, p)
	}
	return out, nil
}
