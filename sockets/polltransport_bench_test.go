package sockets

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// A/B of the long-polling transport alone: the library's against
// ordercast's, same server otherwise. go test -run - -bench Poll ./sockets/

// pollClients opens n long-polling clients that join room, and counts the
// order:status events their GETs receive in delivered.
func pollClients(b *testing.B, library bool, n int, room string, delivered *atomic.Int64) *Server {
	b.Helper()
	s := New(Config{Transports: []string{"polling"}, MaxMessageBytes: 1 << 20, libraryPolling: library})
	var joined atomic.Int64
	_ = s.IO.On("connection", func(args ...any) {
		args[0].(*socket.Socket).Join(socket.Room(room))
		joined.Add(1)
	})
	srv := httptest.NewServer(s)
	stop := make(chan struct{})
	b.Cleanup(func() { close(stop); s.Close(); srv.Close() }) // s first: it answers the parked GETs
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}, Timeout: time.Minute}
	for range n {
		url := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + pollingSession(b, c, srv.URL)
		res, err := c.Post(url, "text/plain;charset=UTF-8", strings.NewReader("40"))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := c.Get(url)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				for p := range bytes.SplitSeq(body, []byte{0x1e}) {
					if bytes.HasPrefix(p, []byte(`42["order:status"`)) {
						delivered.Add(1)
					}
				}
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); joined.Load() < int64(n); {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d joined", joined.Load(), n)
		}
		time.Sleep(time.Millisecond) // poll interval of a deadline wait
	}
	return s
}

// BenchmarkPollBroadcast: one op is one broadcast to n polling clients,
// with up to 8 broadcasts in flight (bench/ scenario 4's window).
func BenchmarkPollBroadcast(b *testing.B) {
	const n, window = 100, 8
	payload := map[string]any{"type": "order:status", "orderId": "o_bench", "seq": 1, "status": "packed", "note": strings.Repeat("n", 60)}
	for _, tr := range []struct {
		name    string
		library bool
	}{{"library", true}, {"ordercast", false}} {
		b.Run(tr.name, func(b *testing.B) {
			var delivered atomic.Int64
			s := pollClients(b, tr.library, n, "order-bench", &delivered)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				for delivered.Load() < int64(i-window)*n {
					runtime.Gosched()
				}
				if err := s.EmitLocal("order:status", payload, "order-bench"); err != nil {
					b.Fatal(err)
				}
			}
			for deadline := time.Now().Add(30 * time.Second); delivered.Load() < int64(b.N)*n; {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d delivered", delivered.Load(), b.N*n)
				}
				runtime.Gosched()
			}
			b.ReportMetric(float64(delivered.Load())/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
