package sockets

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A polling client that sends CLOSE gets NOOP ("6") on its pending GET and
// 400 on the next one, as from Node (protocol suites, "forcefully close
// the session"). Without closeAfterPark, a POST that reached the engine
// before the GET sent with it left that GET a 400 ("GET and CLOSE sent
// together": round 0 of the first run on v3.0.6). The "parked" rows pass
// without it since v3.0.6 (defect 3) and guard that fix.
func TestClientCloseAnswersPendingGET(t *testing.T) {
	s := New(Config{Transports: []string{"polling", "websocket"}, ConnectTimeout: 10 * time.Second})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}

	get := func(url string) (int, string) { return httpGet(c, url) }
	tests := []struct {
		name string
		// parked: the POST is sent once the engine has parked the GET;
		// else both are sent at once, as the suites do.
		parked bool
		rounds int
	}{
		{"CLOSE while the GET is parked", true, 20},
		{"GET and CLOSE sent together", false, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.rounds {
				sid := pollingSession(t, c, srv.URL)
				url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
				ready := make(chan struct{})
				if conn, ok := s.IO.Engine().Clients().Load(sid); ok {
					var once sync.Once
					_ = conn.Transport().Once("ready", func(...any) { once.Do(func() { close(ready) }) })
				}
				type answer struct {
					code int
					body string
				}
				pending := make(chan answer, 1)
				go func() {
					code, body := get(url)
					pending <- answer{code, body}
				}()
				if tt.parked {
					select {
					case <-ready:
					case <-time.After(5 * time.Second):
						t.Fatal("the GET was not parked")
					}
				}
				res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader("1"))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				var a answer
				select {
				case a = <-pending:
				case <-time.After(5 * time.Second):
					t.Fatalf("round %d: the pending GET was never answered", i)
				}
				if a.code != http.StatusOK || a.body != "6" {
					t.Fatalf("round %d: pending GET: %d %q, want 200 \"6\"", i, a.code, a.body)
				}
				if code, body := get(url); code != http.StatusBadRequest {
					t.Fatalf("round %d: next GET: %d %q, want 400", i, code, body)
				}
			}
		})
	}
}

// httpGet returns a GET's status and body; status 0 and the error when it
// failed.
func httpGet(c *http.Client, url string) (int, string) {
	res, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
