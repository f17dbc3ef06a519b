package sockets

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A polling GET sent after the WebSocket's probe and upgrade packets gets
// 400, as from Node (protocol suites, "ignore HTTP requests with same sid
// after upgrade"), and the WebSocket carries on; a stock client, which
// sends the upgrade only once its pending GET is answered, gets that GET's
// NOOP and upgrades. Without refuseOvertaken the GET was often parked
// before the upgrade packet was read and answered 200 "1" (the discarded
// transport's CLOSE).
func TestPollOvertakenByUpgrade(t *testing.T) {
	s := New(Config{Transports: []string{"polling", "websocket"}, ConnectTimeout: 10 * time.Second})
	srv := httptest.NewServer(s)
	defer closeWithin(t, srv, s)
	c := &http.Client{Timeout: 5 * time.Second}
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket&sid="

	send := func(t *testing.T, ws *websocket.Conn, msg string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(t *testing.T, ws *websocket.Conn, want string) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil || !strings.HasPrefix(string(b), want) {
			t.Fatalf("WebSocket read %q, %v; want %q", b, err, want)
		}
	}

	tests := []struct {
		name   string
		rounds int
		run    func(t *testing.T, url string, ws *websocket.Conn)
	}{
		{"probe and upgrade sent before the GET", 30, func(t *testing.T, url string, ws *websocket.Conn) {
			send(t, ws, "2probe")
			send(t, ws, "5")
			if code, body := httpGet(c, url); code != http.StatusBadRequest {
				t.Fatalf("GET after the upgrade: %d %q, want 400", code, body)
			}
			expect(t, ws, "3probe")
			send(t, ws, "40") // a Socket.IO CONNECT, answered over the WebSocket
			expect(t, ws, "40{")
		}},
		{"stock client: upgrade once the GET is answered", 5, func(t *testing.T, url string, ws *websocket.Conn) {
			send(t, ws, "2probe")
			expect(t, ws, "3probe")
			// Parked, then answered by the engine's upgrade check.
			if code, body := httpGet(c, url); code != http.StatusOK || body != "6" {
				t.Fatalf("GET during the upgrade: %d %q, want 200 \"6\"", code, body)
			}
			send(t, ws, "5")
			send(t, ws, "40")
			expect(t, ws, "40{")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range tt.rounds {
				sid := pollingSession(t, c, srv.URL)
				ws, _, err := websocket.DefaultDialer.Dial(wsURL+sid, nil)
				if err != nil {
					t.Fatal(err)
				}
				tt.run(t, srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, ws)
				ws.Close()
			}
		})
	}
}
