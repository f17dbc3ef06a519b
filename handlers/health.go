package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Check is one readiness check (store, Redis).
type Check struct {
	Name string
	Fn   func(context.Context) error
	// Degraded marks a dependency the process keeps serving without
	// (Redis: each process then serves its own sockets): /readyz still
	// answers 503 while it fails, with status "degraded".
	Degraded bool
}

// health answers liveness and readiness.
type health struct {
	checks   []Check
	draining <-chan struct{}
}

func (h *health) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs every check; it answers 503 with the failing ones named while
// any fails or the server is shutting down. The status word is "degraded"
// when only Degraded checks fail (the process still serves), else "unready".
func (h *health) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready, degraded := true, true
	select {
	case <-h.draining:
		ready, degraded = false, false
		checks["shutdown"] = "shutting down"
	default:
	}
	for _, ch := range h.checks {
		if err := ch.Fn(ctx); err != nil {
			ready = false
			degraded = degraded && ch.Degraded
			checks[ch.Name] = err.Error()
		} else {
			checks[ch.Name] = "ok"
		}
	}
	status, word := http.StatusOK, "ready"
	if !ready {
		status, word = http.StatusServiceUnavailable, "unready"
		if degraded {
			word = "degraded"
		}
	}
	c.JSON(status, gin.H{"status": word, "checks": checks})
}
