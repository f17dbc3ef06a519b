package sockets

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Connections that come and go leave nothing behind: after 4,500 clients
// (1,500 per transport mode) connected, joined "/" and closed, a forced GC
// finds the goroutines back at their baseline and the heap grown by less
// than 4 KB per closed connection. (v3.0.2 leaked a write-queue goroutine
// and ~30 KB per client-closed connection: defect 1 and the queue
// finalizer, both fixed in v3.0.6.)
func TestChurnLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("churn: 4,500 connections")
	}
	const perMode = 1500
	s := New(Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: 4096, ConnectTimeout: 10 * time.Second})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	c := &http.Client{Timeout: 5 * time.Second, Transport: tr}
	base := srv.URL + "/socket.io/?EIO=4"
	wsBase := "ws" + strings.TrimPrefix(base, "http")
	modes := []struct {
		name string
		run  func() error
	}{
		{"websocket", func() error { return churnWebSocket(wsBase + "&transport=websocket") }},
		{"polling", func() error { return churnPolling(c, base) }},
		{"upgrade", func() error { return churnUpgrade(c, base, wsBase) }},
	}
	// Warm up every path once, so that lazily built state is in the baseline.
	for _, m := range modes {
		if err := m.run(); err != nil {
			t.Fatalf("%s warm-up: %v", m.name, err)
		}
	}
	waitClientsGone(t, s, 0)
	tr.CloseIdleConnections()
	goroutines, heap := settled()

	for _, m := range modes {
		for i := range perMode {
			if err := m.run(); err != nil {
				t.Fatalf("%s client %d: %v", m.name, i, err)
			}
		}
	}
	waitClientsGone(t, s, 0)
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, h := settled()
		growth := float64(int64(h)-int64(heap)) / float64(3*perMode)
		if g <= goroutines && growth < 4096 {
			t.Logf("after %d connections: goroutines %d (baseline %d), heap %+.0f B per connection", 3*perMode, g, goroutines, growth)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d connections: goroutines %d (baseline %d), heap %+.0f B per connection (want < 4096)", 3*perMode, g, goroutines, growth)
		}
		time.Sleep(50 * time.Millisecond) // poll interval of a deadline wait
	}
}

// settled forces a GC and reports goroutines and live heap.
func settled() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

func waitClientsGone(t *testing.T, s *Server, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); int(s.IO.Engine().ClientsCount()) != want; {
		if time.Now().After(deadline) {
			t.Fatalf("%d engine clients, want %d", s.IO.Engine().ClientsCount(), want)
		}
		time.Sleep(5 * time.Millisecond) // poll interval of a deadline wait
	}
}

func churnWebSocket(url string) error {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	if err := expectFrame(ws, "0{"); err != nil {
		return err
	}
	return connectAndClose(ws)
}

// connectAndClose joins "/" over ws, then closes the WebSocket.
func connectAndClose(ws *websocket.Conn) error {
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		return err
	}
	if err := expectFrame(ws, "40{"); err != nil {
		return err
	}
	return ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
}

func churnPolling(c *http.Client, base string) error {
	sid, err := openPolling(c, base)
	if err != nil {
		return err
	}
	url := base + "&transport=polling&sid=" + sid
	if err := post(c, url, "40"); err != nil {
		return err
	}
	if b, err := get(c, url); err != nil || !strings.HasPrefix(b, "40{") {
		return fmt.Errorf("CONNECT reply %q: %v", b, err)
	}
	// As a real client: a long-poll is pending when it closes.
	polled := make(chan error, 1)
	go func() { _, err := get(c, url); polled <- err }()
	if err := post(c, url, "1"); err != nil { // the client closes
		return err
	}
	return <-polled
}

func churnUpgrade(c *http.Client, base, wsBase string) error {
	sid, err := openPolling(c, base)
	if err != nil {
		return err
	}
	ws, _, err := websocket.DefaultDialer.Dial(wsBase+"&transport=websocket&sid="+sid, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		return err
	}
	if err := expectFrame(ws, "3probe"); err != nil {
		return err
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		return err
	}
	return connectAndClose(ws)
}

// expectFrame reads frames until one starts with prefix, skipping NOOPs
// ("6") that an upgrade may send.
func expectFrame(ws *websocket.Conn, prefix string) error {
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", prefix, err)
		}
		if strings.HasPrefix(string(b), prefix) {
			return nil
		}
		if string(b) != "6" {
			return fmt.Errorf("got %q, want %q", b, prefix)
		}
	}
}

func openPolling(c *http.Client, base string) (string, error) {
	b, err := get(c, base+"&transport=polling")
	if err != nil {
		return "", err
	}
	i := strings.Index(b, `"sid":"`)
	if !strings.HasPrefix(b, "0{") || i < 0 {
		return "", fmt.Errorf("handshake %q", b)
	}
	sid, _, _ := strings.Cut(b[i+len(`"sid":"`):], `"`)
	return sid, nil
}

func get(c *http.Client, url string) (string, error) {
	res, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET: %d %s", res.StatusCode, b)
	}
	return string(b), err
}

func post(c *http.Client, url, body string) error {
	res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %q: %d %s", body, res.StatusCode, b)
	}
	return nil
}
