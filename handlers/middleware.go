package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/origin"
)

// recoverJSON turns a panic into the contract's internal error, logged once.
func recoverJSON(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic in handler", "route", c.FullPath(), "panic", v)
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": errInternal})
				}
			}
		}()
		c.Next()
	}
}

const requestIDHeader = "X-Request-Id"

// requestLog logs one line per request, with a request id and any internal
// error (see abort); never the query string, which may hold a tracking
// token.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
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
		switch st := c.Writer.Status(); {
		case st == http.StatusServiceUnavailable:
			level = slog.LevelWarn // not ready, or shutting down: expected
		case st >= 500:
			level = slog.LevelError
		}
		ctx := c.Request.Context()
		if !log.Enabled(ctx, level) {
			return // the line's attributes cost more than the rest of this middleware
		}
		attrs := []any{"id", rid, "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "remote", c.ClientIP()}
		if level == slog.LevelError && len(c.Errors) > 0 {
			attrs = append(attrs, "err", c.Errors.String())
		}
		log.Log(ctx, level, "http request", attrs...)
	}
}

// allowOrigins applies --allowed-origins to every route, Socket.IO
// handshakes included (cross-site WebSocket hijacking): requests without an
// Origin (non-browser clients) and same-origin requests pass; other origins
// must be listed, and get CORS headers.
func allowOrigins(allowed origin.List) gin.HandlerFunc {
	return func(c *gin.Context) {
		o := c.GetHeader("Origin")
		if o == "" || origin.Same(o, c.Request.Host) {
			c.Next()
			return
		}
		if !allowed.Allows(o) {
			abort(c, forbidden("origin not allowed"))
			return
		}
		hd := c.Writer.Header()
		hd.Set("Access-Control-Allow-Origin", o)
		hd.Set("Access-Control-Allow-Credentials", "true")
		hd.Add("Vary", "Origin")
		hd.Set("Access-Control-Expose-Headers", HeaderIdempotentReplayed)
		if c.Request.Method == http.MethodOptions {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Ordercast-Signature, X-Ordercast-Timestamp")
			hd.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
