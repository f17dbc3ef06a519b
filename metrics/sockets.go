package metrics

import (
	"time"

	"github.com/ordercast/ordercast/rooms"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Transports, as the engine names them.
const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

// Watch counts the sockets of io's main namespace: connects, disconnects,
// events in and out; and registers gauges read at scrape time: connected
// sockets by transport, named rooms by kind, and SSE streams (sseStreams may
// be nil). handled tells the event names the server handles; others are
// counted as "other". Call it once, before serving.
//
// The listeners are attached on "connection", which the library fires
// before it processes any packet the client sent after its CONNECT (both go
// through the socket's task queue), so no incoming event is missed.
func (m *Metrics) Watch(io *socket.Server, count rooms.Counter, sseStreams func() int, handled func(event string) bool) {
	m.reg.MustRegister(&gauges{nsp: io.Sockets().Name(), count: count, sse: sseStreams})
	_ = io.On("connection", func(args ...any) {
		s, ok := args[0].(*socket.Socket)
		if !ok {
			return
		}
		nsp := s.Nsp().Name()
		m.connects.WithLabelValues(nsp, transportOf(s)).Inc()
		s.OnAny(func(args ...any) {
			m.requests.Add(1)
			m.eventsIn.WithLabelValues(incomingName(handled, args)).Inc()
		})
		s.OnAnyOutgoing(func(args ...any) {
			if len(args) > 0 {
				if name, ok := args[0].(string); ok {
					m.eventsOut.WithLabelValues(name).Inc()
				}
			}
		})
		_ = s.On("disconnect", func(args ...any) {
			reason := other
			if len(args) > 0 {
				if r, ok := args[0].(string); ok && r != "" {
					reason = r
				}
			}
			m.disconnects.WithLabelValues(nsp, reason).Inc()
		})
	})
}

// incomingName is the event's name when the server handles it, else
// "other": a client chooses the names it sends, so they are not a bounded
// label on their own.
func incomingName(handled func(string) bool, args []any) string {
	if len(args) == 0 {
		return other
	}
	name, ok := args[0].(string)
	if !ok || socket.SOCKET_RESERVED_EVENTS.Has(name) || !handled(name) {
		return other
	}
	return name
}

func transportOf(s *socket.Socket) string {
	if c := s.Conn(); c != nil {
		if t := c.Transport(); t != nil && t.Name() == transportPolling {
			return transportPolling
		}
	}
	return transportWebSocket
}

// Handshakes wraps a Socket.IO middleware to count the handshakes it
// refuses, by the error's data "code" (bounded by the middleware's own
// codes), or "error" when it has none.
func (m *Metrics) Handshakes(mw socket.NamespaceMiddleware) socket.NamespaceMiddleware {
	return func(s *socket.Socket, next func(*socket.ExtendedError)) {
		mw(s, func(err *socket.ExtendedError) {
			if err != nil {
				m.rejected.WithLabelValues(errorCode(err)).Inc()
			}
			next(err)
		})
	}
}

func errorCode(err *socket.ExtendedError) string {
	if data, ok := err.Data.(map[string]any); ok {
		if code, ok := data["code"].(string); ok && code != "" {
			return code
		}
	}
	return "error"
}

// Ack counts one ack sent for event; result is "ok" or an error code. It
// implements handlers.AckObserver.
func (m *Metrics) Ack(event, result string) {
	m.acks.WithLabelValues(event, result).Inc()
}

// Broadcast counts one hub broadcast and its latency from the event's
// creation. It implements rooms.Observer. order:created carries no stored
// event (the hub reports it with no latency), so it is only counted.
func (m *Metrics) Broadcast(event string, latency time.Duration) {
	m.broadcasts.WithLabelValues(event).Inc()
	if event != rooms.EventCreated {
		m.latency.WithLabelValues(event).Observe(latency.Seconds())
	}
}

// gauges reads the live figures at scrape time, so they are never out of
// step with the library's own state (a transport upgrade, a socket that
// left a room).
type gauges struct {
	nsp   string
	count rooms.Counter // the same counts as the stats event
	sse   func() int
}

var (
	socketsDesc = prometheus.NewDesc(namespace+"_sockets_connected", "Connected Socket.IO sockets on this process, by namespace and current transport.", []string{"namespace", "transport"}, nil)
	roomsDesc   = prometheus.NewDesc(namespace+"_rooms", "Named rooms with at least one socket on this process, by kind (order, support, admin).", []string{"kind"}, nil)
	sseDesc     = prometheus.NewDesc(namespace+"_sse_streams", "Open Server-Sent Events streams on this process.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- socketsDesc
	ch <- roomsDesc
	if g.sse != nil {
		ch <- sseDesc
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	c := g.count.Count(rooms.Kind)
	ch <- prometheus.MustNewConstMetric(socketsDesc, prometheus.GaugeValue, float64(c.Polling), g.nsp, transportPolling)
	ch <- prometheus.MustNewConstMetric(socketsDesc, prometheus.GaugeValue, float64(c.WebSocket), g.nsp, transportWebSocket)
	for _, k := range []string{rooms.KindOrder, rooms.KindSupport, rooms.KindAdmin} {
		ch <- prometheus.MustNewConstMetric(roomsDesc, prometheus.GaugeValue, float64(c.Rooms[k]), k)
	}
	if g.sse != nil {
		ch <- prometheus.MustNewConstMetric(sseDesc, prometheus.GaugeValue, float64(g.sse()))
	}
}
