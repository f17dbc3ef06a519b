package sockets

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ordercast/ordercast/origin"
)

// The v3.0.6 Origin regression: a browser on an allowed origin upgrades to
// WebSocket (without allowOrigins, gorilla's same-origin check refuses it
// and the browser stays on polling); one on any other origin gets no 101.
func TestWebSocketOrigins(t *testing.T) {
	s := New(Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: 4096,
		AllowOrigin: origin.List{"https://shop.example"}.Allows})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	tests := []struct {
		origin string
		want   int
	}{
		{"https://shop.example", http.StatusSwitchingProtocols},
		{"", http.StatusSwitchingProtocols}, // not a browser
		{srv.URL, http.StatusSwitchingProtocols},
		{"https://evil.example", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
			ws, res, err := d.Dial(url, h)
			if ws != nil {
				ws.Close()
			}
			if res == nil {
				t.Fatalf("no answer: %v", err)
			}
			if res.StatusCode != tt.want {
				t.Fatalf("upgrade from %q: %d, want %d", tt.origin, res.StatusCode, tt.want)
			}
		})
	}
}
