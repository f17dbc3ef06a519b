package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// Requests counts what clients ask of the server, not the Socket.IO
// transport's own requests (long-polls, handshakes): the idle reclaim
// must see a server of idle polling clients as idle.
func TestRequestsLeaveOutTheTransport(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := New()
	r := gin.New()
	r.Use(m.HTTP)
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	r.GET("/api/orders", ok)
	r.GET("/socket.io/*any", ok)
	r.POST("/socket.io/*any", ok)
	tests := []struct {
		method, path string
		counts       bool
	}{
		{http.MethodGet, "/api/orders", true},
		{http.MethodGet, "/nowhere", true}, // a 404 is still asked of the server
		{http.MethodGet, "/socket.io/?EIO=4&transport=polling", false},
		{http.MethodPost, "/socket.io/?EIO=4&transport=polling&sid=x", false},
	}
	for _, tt := range tests {
		before := m.Requests()
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
		if got := m.Requests() - before; got != map[bool]uint64{true: 1, false: 0}[tt.counts] {
			t.Errorf("%s %s: Requests moved by %d, want counted %v", tt.method, tt.path, got, tt.counts)
		}
	}
}
