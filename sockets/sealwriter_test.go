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

// Defect 10: polling sessions closed by their clients while a GET is
// parked make the engine write its last packet to that GET while the GET's
// handler returns: two goroutines share one response. Without the workaround `go test -race` reports the race here
// (and a plain run now and then dies of "concurrent map writes").
func TestPollingCloseWhileWriting(t *testing.T) {
	s := newPollingServer()
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}
	// A polling transport is writable while it holds a GET.
	parkedGET := func(sid string) bool {
		conn, ok := s.IO.Engine().Clients().Load(sid)
		return ok && conn.Transport() != nil && conn.Transport().Writable()
	}
	cycle := func() {
		sid := pollingSession(t, c, srv.URL)
		url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
		res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader("40"))
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
		if res, err = c.Get(url); err != nil { // the CONNECT reply
			t.Error(err)
			return
		}
		res.Body.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			if res, err := c.Get(url); err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
		for deadline := time.Now().Add(2 * time.Second); !parkedGET(sid) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // poll interval of a deadline wait
		}
		if res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader("1")); err == nil {
			res.Body.Close() // the client closes its session
		}
		<-done
	}
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				cycle()
			}
		}()
	}
	for range 600 {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
}
