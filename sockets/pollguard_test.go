package sockets

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// pollingSession opens an Engine.IO polling session on the real engine and
// returns its sid.
func pollingSession(t testing.TB, c *http.Client, url string) string {
	t.Helper()
	res, err := c.Get(url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var open struct {
		Sid string `json:"sid"`
	}
	if res.StatusCode != 200 || len(b) < 2 || json.Unmarshal(b[1:], &open) != nil || open.Sid == "" {
		t.Fatalf("handshake: %d %s", res.StatusCode, b)
	}
	return open.Sid
}

// closeWithin closes the servers, and fails instead of waiting for good
// when a request is still hanging (httptest.Server.Close waits for every
// handler, and a hung one never returns).
func closeWithin(t *testing.T, srv *httptest.Server, s *Server) {
	done := make(chan struct{})
	go func() { srv.Close(); s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the server could not close within 5 s: a request is hanging")
	}
}

// onlyReader hides a body's length, so the request is sent chunked.
type onlyReader struct{ io.Reader }

// Each case is an input that, without guard, hangs the request or is
// processed in part; with it, the client gets a prompt JSON answer.
func TestGuard(t *testing.T) {
	const max = 4096
	s := New(Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: max, ConnectTimeout: 10 * time.Second})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	// A hang shows as this client's timeout.
	c := &http.Client{Timeout: 3 * time.Second}

	tests := []struct {
		name        string
		method      string
		query       string // after the session's sid; "" without a session
		contentType string
		body        io.Reader
		want        int
		wantCode    string
	}{
		// Defect 5, fixed in v3.0.6: the library answers it itself now.
		{name: "defect 5: octet-stream POST (used to hang for good)", method: "POST", query: "sid",
			contentType: "application/octet-stream", body: strings.NewReader("40"), want: 400},
		{name: "defect 5: octet-stream with parameters", method: "POST", query: "sid",
			contentType: "Application/Octet-Stream; x=1", body: strings.NewReader("40"), want: 200}, // read as text
		{name: "defect 6: chunked body over the limit (used to be cut and processed)", method: "POST", query: "sid",
			contentType: "text/plain;charset=UTF-8", body: onlyReader{strings.NewReader(`42["x","` + strings.Repeat("a", 2*max) + `"]`)},
			want: 413, wantCode: "too_large"},
		{name: "Content-Length over the limit", method: "POST", query: "sid",
			contentType: "text/plain;charset=UTF-8", body: strings.NewReader(strings.Repeat("6\x1e", max)), want: 413, wantCode: "too_large"},
		{name: "JSONP handshake", method: "GET", query: "", body: nil, want: 400, wantCode: "bad_request"},
		{name: "a chunked body under the limit is passed on whole", method: "POST", query: "sid",
			contentType: "text/plain;charset=UTF-8", body: onlyReader{strings.NewReader("40")}, want: 200},
		{name: "an ordinary POST", method: "POST", query: "sid",
			contentType: "text/plain;charset=UTF-8", body: strings.NewReader("6"), want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := srv.URL + "/socket.io/?EIO=4&transport=polling"
			if tt.query == "sid" {
				url += "&sid=" + pollingSession(t, c, srv.URL)
			} else {
				url += "&j=0"
			}
			req, err := http.NewRequest(tt.method, url, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			start := time.Now()
			res, err := c.Do(req)
			if err != nil {
				t.Fatalf("no answer after %v: %v", time.Since(start), err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("%d %s, want %d", res.StatusCode, b, tt.want)
			}
			if tt.wantCode != "" {
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				if json.Unmarshal(b, &e) != nil || e.Error.Code != tt.wantCode {
					t.Fatalf("body %s, want error code %s", b, tt.wantCode)
				}
			}
		})
	}
}

// A chunked payload that guard buffered reaches the engine intact: its
// Socket.IO CONNECT is answered on the next poll.
func TestGuardPassesChunkedPayload(t *testing.T) {
	s := newPollingServer()
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}
	sid := pollingSession(t, c, srv.URL)
	url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	res, err := c.Post(url, "text/plain;charset=UTF-8", onlyReader{strings.NewReader("40")})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST: %d", res.StatusCode)
	}
	res, err = c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.HasPrefix(string(b), `40{"sid":`) {
		t.Fatalf("poll after CONNECT: %q, want the CONNECT answer", b)
	}
}

// Defect 8, fixed in v3.0.6: when a POST makes the server close its polling
// session, the next GET gets CLOSE at once (it used to wait for the 30 s
// close timeout);
// a payload with a packet type Engine.IO v4 does not have is refused and
// its session closed, as over WebSocket.
func TestGuardClosingSessions(t *testing.T) {
	s := newPollingServer()
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 3 * time.Second}
	tests := []struct {
		name     string
		body     string
		wantPost int
		wantGet  int // 0: CLOSE, or an unknown sid
	}{
		{"a bad Socket.IO packet: the server closes the session", "40\x1e49", 0, 0},
		{"bad JSON in an event", "40\x1e42[\"x\",", 0, 0},
		{"an Engine.IO packet type v4 does not have", "9", http.StatusBadRequest, http.StatusBadRequest},
		{"a bad type after good packets", "6\x1e40\x1e7x", http.StatusBadRequest, http.StatusBadRequest},
		// As from Node (engine.io-protocol suite, "closes the session upon
		// invalid packet format"); the library alone answers "ok", drops the
		// payload and parks the next GET (polling.go OnData ignores
		// DecodePayload's error).
		{"not a packet (the protocol suite's)", "abc", http.StatusBadRequest, http.StatusBadRequest},
		{"a bad packet after a good one", "4hello\x1ez", http.StatusBadRequest, http.StatusBadRequest},
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
			if tt.wantPost != 0 && res.StatusCode != tt.wantPost {
				t.Fatalf("POST: %d, want %d", res.StatusCode, tt.wantPost)
			}
			// Packets queued before the close (a CONNECT reply) may come
			// first; the close must follow at once, never after the 30 s
			// close timeout (each GET has the client's 3 s deadline).
			for try := 1; ; try++ {
				start := time.Now()
				res, err = c.Get(url)
				if err != nil {
					t.Fatalf("GET after the close: no answer after %v: %v", time.Since(start), err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if tt.wantGet != 0 && res.StatusCode != tt.wantGet {
					t.Fatalf("GET after the close: %d %q, want %d", res.StatusCode, b, tt.wantGet)
				}
				closed := (res.StatusCode == 200 && slices.Contains(strings.Split(string(b), "\x1e"), "1")) ||
					(res.StatusCode == 400 && strings.Contains(string(b), "Session ID unknown"))
				if closed {
					break
				}
				if res.StatusCode != 200 || try == 2 {
					t.Fatalf("GET %d after the close: %d %q, want CLOSE or an unknown sid", try, res.StatusCode, b)
				}
			}
		})
	}
}

// newPollingServer is a polling-only server with a 4 KB message limit.
func newPollingServer() *Server {
	return New(Config{Transports: []string{"polling"}, MaxMessageBytes: 4096, ConnectTimeout: 10 * time.Second})
}
