package app

import (
	"log/slog"
	"time"

	"github.com/ordercast/ordercast/origin"
)

// Config is what the app is built from (main.go reads it from flags and
// the environment).
type Config struct {
	Addr        string
	DataDir     string
	APIKey      string
	Secret      string
	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	// RedisNodePeers: Node socket.io servers share the rooms on Redis and
	// get ordercast's room events too.
	RedisNodePeers  bool
	AllowedOrigins  origin.List
	MetricsAddr     string
	MaxMessageBytes int64
	Transports      []string
	Demo            bool
	LogLevel        slog.Level
	LogFormat       string
	RecoveryWindow  time.Duration
	ConnectTimeout  time.Duration
	ShutdownTimeout time.Duration
	// ShutdownDelay is the drain before the shutdown proper: /readyz
	// answers 503 while everything else is served.
	ShutdownDelay time.Duration
	Pprof         bool
	// CacheOrders bounds the store's cache of live orders (store.Cache);
	// 0: no cache.
	CacheOrders int64
	SocketRate  float64
	SocketBurst int64
	// Per-IP limits and webhook signing (handlers/httplimits.go, signature.go).
	HTTPRatePerIP    float64
	HTTPBurstPerIP   int64
	ConnectionsPerIP int64
	TrustedProxies   []string
	WebhookSecret    string
	// MemoryLimit is the runtime's soft memory limit in bytes (0: none);
	// GOMEMLIMIT wins (gc.go).
	MemoryLimit int64
	// IdleReclaim: after this long with little allocation and no requests
	// following a burst, collect once and return the memory to the OS
	// (gcidle.go); 0: off.
	IdleReclaim time.Duration
}
