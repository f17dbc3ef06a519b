package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

func (h *Handlers) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs every check; it answers 503 with the failing ones named while
// any fails or the server is shutting down. The status word is "degraded"
// when only Degraded checks fail (the process still serves), else "unready".
func (h *Handlers) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready, degraded := true, true
	select {
	case <-h.down:
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
