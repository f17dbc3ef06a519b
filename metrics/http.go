package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// unmatched is the route label of requests no route matched (404, 405):
// their raw paths are unbounded.
const unmatched = "unmatched"

// HTTP is a gin middleware counting requests and their duration by route
// pattern (c.FullPath(), never the raw path) and status.
func (m *Metrics) HTTP(c *gin.Context) {
	start := time.Now()
	defer func() {
		status := c.Writer.Status()
		v := recover()
		if v != nil {
			status = http.StatusInternalServerError // the recovery middleware answers 500
		}
		m.observeHTTP(c, status, time.Since(start))
		if v != nil {
			panic(v)
		}
	}()
	c.Next()
}

func (m *Metrics) observeHTTP(c *gin.Context, status int, d time.Duration) {
	route := c.FullPath()
	if route == "" {
		route = unmatched
	}
	if !strings.HasPrefix(route, "/socket.io/") {
		m.requests.Add(1)
	}
	// A WebSocket upgrade hijacks the connection: gin never sees the 101.
	if status == http.StatusOK && strings.EqualFold(c.Request.Header.Get("Upgrade"), "websocket") {
		status = http.StatusSwitchingProtocols
	}
	method := methodLabel(c.Request.Method)
	m.httpReqs.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpTime.WithLabelValues(method, route).Observe(d.Seconds())
}

// methodLabel bounds the method label: any token is a valid method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return other
}
