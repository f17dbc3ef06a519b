package sockets

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A malformed polling payload closes its session at once: the POST gets
// 400 and the next GET 400, as from Node (engine.io-protocol suite,
// "closes the session upon invalid packet format"). The library answers
// "ok" and drops the payload (servers/engine/v3/transports/polling.go
// OnData ignores DecodePayload's error): the session stays, and the next
// GET is parked (here: runs into the client's deadline). guard's
// validPayload refuses the payload and closes the session first.
func TestMalformedPollingPayloadClosesSession(t *testing.T) {
	s := New(Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: 1_000_000, ConnectTimeout: 10 * time.Second})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 2 * time.Second}

	tests := []struct{ name, body string }{
		{"not a packet (the suite's)", "abc"},
		{"a packet type v4 does not have", "9"},
		{"a bad packet after a good one", "4hello\x1ez"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid := pollingSession(t, c, srv.URL)
			url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
			res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST %q: %d, want 400", tt.body, res.StatusCode)
			}
			res, err = c.Get(url)
			if err != nil {
				t.Fatalf("next GET: %v", err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("next GET: %d %q, want 400", res.StatusCode, b)
			}
		})
	}
}
