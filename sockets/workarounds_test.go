package sockets

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Workaround 14: a long-poll GET whose end is due before the engine has
// parked it (the session closed, or the client left, while the GET was on
// its way in). The widest form of that window: the end comes before the
// engine sees the GET at all. Without the workaround the request context is
// cancelled there and then, and `go test -race` reports the engine's watcher
// goroutine reading ctx.Cleanup while onPollRequest assigns it. With it, the
// end waits for the engine to park the GET, and the client still gets its
// CLOSE packet at once.
func TestPollEndedBeforeParked(t *testing.T) {
	s := newPollingServer()
	endFirst := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid := r.URL.Query().Get("sid"); r.Method == http.MethodGet && sid != "" {
			s.polls.end(sid)
		}
		sealWrites(s.engine).ServeHTTP(w, r)
	})
	srv := httptest.NewServer(s.polls.wrap(endFirst))
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}

	for range 30 {
		sid := pollingSession(t, c, srv.URL)
		url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
		start := time.Now()
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasSuffix(string(b), closePacket) {
			t.Fatalf("GET ended by the server: %d %q, want a CLOSE packet", res.StatusCode, b)
		}
		// Parking takes microseconds; the fallback (armTimeout) would be seconds.
		if d := time.Since(start); d >= armTimeout {
			t.Fatalf("answered after %v: the engine never armed the GET", d)
		}
	}
}

// A GET whose client leaves as the engine parks it still ends: its
// handler returns (the session itself lives on until its ping timeout).
func TestPollClientGoneBeforeParked(t *testing.T) {
	s := newPollingServer()
	entered := make(chan struct{}, 1)
	returned := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := r.URL.Query().Get("sid")
		if r.Method != http.MethodGet || sid == "" {
			s.ServeHTTP(w, r)
			return
		}
		entered <- struct{}{}
		s.ServeHTTP(w, r)
		returned <- sid
	}))
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}

	for range 30 {
		sid := pollingSession(t, c, srv.URL)
		ctx, leave := context.WithCancel(context.Background())
		go func() {
			<-entered
			leave()
		}()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, nil)
		if _, err := c.Do(req); err == nil {
			t.Fatal("the GET was answered, want it left by its client")
		}
		select {
		case got := <-returned:
			if got != sid {
				t.Fatalf("returned: GET of %s, want %s", got, sid)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the GET's handler still runs 3 s after its client left")
		}
	}
}
