package sockets

import (
	"bytes"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// A/B of the WebSocket transport alone: the library's against ordercast's,
// same server otherwise. go test -run - -bench WS ./sockets/

var transportsAB = []struct {
	name    string
	library bool
	noCork  bool
}{{"library", true, false}, {"ordercast-nocork", false, true}, {"ordercast", false, false}}

// benchClients connects n WebSocket clients that join room and count the
// events they receive in delivered.
func benchClients(b *testing.B, library, noCork bool, n int, room string, delivered *atomic.Int64) (*Server, *writeCount) {
	b.Helper()
	s := New(Config{Transports: []string{"websocket"}, MaxMessageBytes: 1 << 20, libraryWebSocket: library, noCork: noCork})
	var joined atomic.Int64
	_ = s.IO.On("connection", func(args ...any) {
		args[0].(*socket.Socket).Join(socket.Room(room))
		joined.Add(1)
	})
	w := &writeCount{}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener = countListener{srv.Listener, w, true}
	srv.Start()
	b.Cleanup(func() { srv.Close(); s.Close() })
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = ws.Close() })
		if err := expectFrame(ws, "0{"); err != nil {
			b.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			b.Fatal(err)
		}
		if err := expectFrame(ws, "40{"); err != nil {
			b.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Time{})
		conns[i] = ws
	}
	for deadline := time.Now().Add(10 * time.Second); joined.Load() < int64(n); {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d joined", joined.Load(), n)
		}
		time.Sleep(time.Millisecond) // poll interval of a deadline wait
	}
	if delivered != nil {
		for _, ws := range conns {
			go func() {
				for {
					_, m, err := ws.ReadMessage()
					if err != nil {
						return
					}
					if bytes.HasPrefix(m, []byte(`42["order:status"`)) {
						delivered.Add(1)
					}
				}
			}()
		}
	}
	b.Cleanup(func() { runtime.KeepAlive(conns) })
	return s, w
}

// BenchmarkWSBroadcast: one op is one broadcast to n clients, emitted by
// 8 goroutines with up to 8 broadcasts in flight (as bench/ scenario 2's
// 8 status changes in flight).
func BenchmarkWSBroadcast(b *testing.B) {
	const n, window = 200, 8
	payload := map[string]any{"type": "order:status", "orderId": "o_bench", "seq": 1, "status": "packed", "note": strings.Repeat("n", 60)}
	for _, tr := range transportsAB {
		b.Run(tr.name, func(b *testing.B) {
			var delivered atomic.Int64
			s, w := benchClients(b, tr.library, tr.noCork, n, "order-bench", &delivered)
			jobs := make(chan int)
			errs := make(chan error, window)
			var wg sync.WaitGroup
			for range window {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range jobs {
						for delivered.Load() < int64(i-window)*n {
							runtime.Gosched()
						}
						if err := s.EmitLocal("order:status", payload, "order-bench"); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			start, writes := time.Now(), w.n.Load()
			for i := range b.N {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			for deadline := time.Now().Add(30 * time.Second); delivered.Load() < int64(b.N)*n; {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d delivered", delivered.Load(), b.N*n)
				}
				runtime.Gosched()
			}
			b.ReportMetric(float64(delivered.Load())/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(w.n.Load()-writes)/float64(delivered.Load()), "writes/delivery")
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
		})
	}
}

// BenchmarkWSIdleConnection reports the live heap each idle WebSocket
// connection holds (both ends are in this process: the client's share is
// the same for both transports).
func BenchmarkWSIdleConnection(b *testing.B) {
	const n = 500
	for _, tr := range transportsAB {
		b.Run(tr.name, func(b *testing.B) {
			for range b.N {
				g0, heap0 := settled()
				stack0 := stackInuse()
				benchClients(b, tr.library, tr.noCork, n, "idle", nil)
				g1, heap1 := settled()
				b.ReportMetric(float64(int64(heap1)-int64(heap0))/n, "heapB/conn")
				b.ReportMetric(float64(int64(stackInuse())-int64(stack0))/n, "stackB/conn")
				b.ReportMetric(float64(g1-g0)/n, "goroutines/conn")
			}
		})
	}
}

func stackInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}
