package handlers

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/origin"
)

// Mounts are the parts of the router built elsewhere.
type Mounts struct {
	// Socket is the Engine.IO handler, mounted at /socket.io/.
	Socket http.Handler
	// Public holds the pages (*.html), static/ and assets/.
	Public fs.FS
	// Metrics, when not nil, is served at /metrics.
	Metrics http.Handler
	// Observe, when not nil, wraps every request (HTTP metrics).
	Observe gin.HandlerFunc
}

// Router is the composition root of every route: read it to find any way in.
func (h *Handlers) Router(m Mounts) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Only --trusted-proxies may name the client in X-Forwarded-For; gin
	// would otherwise believe anyone, and per-IP limits would be void.
	if err := r.SetTrustedProxies(h.cfg.TrustedProxies); err != nil {
		h.log.Error("ignoring --trusted-proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(h.recoverJSON, h.requestLog)
	if m.Observe != nil {
		r.Use(m.Observe)
	}
	r.Use(h.origins, h.limitHTTP)
	r.NoRoute(func(c *gin.Context) { h.abort(c, &Error{http.StatusNotFound, CodeNotFound, "no such route"}) })
	r.NoMethod(func(c *gin.Context) {
		h.abort(c, &Error{http.StatusMethodNotAllowed, CodeBadRequest, "method not allowed"})
	})

	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	if m.Metrics != nil {
		r.GET("/metrics", gin.WrapH(m.Metrics))
	}

	sio := gin.WrapH(m.Socket)
	r.GET("/socket.io/*any", h.limitHandshakes, sio)
	r.POST("/socket.io/*any", h.limitHandshakes, sio)

	api := r.Group("/api", h.identify, h.requireSignature)
	api.POST("/orders", h.requireService, h.createOrderHTTP)
	api.GET("/orders", h.requireTrusted, h.listOrdersHTTP)
	api.GET("/orders/:id", h.getOrderHTTP)
	api.POST("/orders/:id/status", h.requireTrusted, h.changeStatusHTTP)
	api.GET("/orders/:id/stream", h.holdConnection, h.stream)

	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/support") })
	r.GET("/track/:id", h.page(m.Public, "track.html"))
	r.GET("/support", h.page(m.Public, "support.html"))
	r.GET("/admin", h.page(m.Public, "admin.html"))
	if static, err := fs.Sub(m.Public, "static"); err == nil {
		r.StaticFS("/static", http.FS(static))
	}
	if assets, err := fs.Sub(m.Public, "assets"); err == nil {
		r.StaticFS("/assets", http.FS(assets))
	}
	return r
}

// origins applies --allowed-origins to every route, Socket.IO handshakes
// included (cross-site WebSocket hijacking): requests without an Origin
// (non-browser clients) and same-origin requests pass; other origins must
// be listed, and get CORS headers.
func (h *Handlers) origins(c *gin.Context) {
	o := c.GetHeader("Origin")
	if o == "" || origin.Same(o, c.Request.Host) {
		c.Next()
		return
	}
	if !h.cfg.AllowedOrigins.Allows(o) {
		h.abort(c, forbidden("origin not allowed"))
		return
	}
	hd := c.Writer.Header()
	hd.Set("Access-Control-Allow-Origin", o)
	hd.Set("Access-Control-Allow-Credentials", "true")
	hd.Add("Vary", "Origin")
	if c.Request.Method == http.MethodOptions {
		hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID, X-Ordercast-Signature, X-Ordercast-Timestamp")
		hd.Set("Access-Control-Max-Age", "600")
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// recoverJSON turns a panic into the contract's internal error, logged once.
func (h *Handlers) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic in handler", "route", c.FullPath(), "panic", v)
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": errInternal})
			}
		}
	}()
	c.Next()
}

const requestIDHeader = "X-Request-Id"

// requestLog logs one line per request, with a request id; never the query
// string, which may hold a tracking token.
func (h *Handlers) requestLog(c *gin.Context) {
	start := time.Now()
	rid := c.GetHeader(requestIDHeader)
	if rid == "" || len(rid) > 64 {
		rid = auth.RandomString(9)
	}
	c.Writer.Header().Set(requestIDHeader, rid)
	c.Next()
	if strings.HasPrefix(c.Request.URL.Path, "/socket.io/") {
		return // one line per connection is logged by the socket layer
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	h.log.Log(c.Request.Context(), level, "http request",
		"id", rid, "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "remote", c.ClientIP())
}
