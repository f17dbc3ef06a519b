// Package sockets builds the Socket.IO server that ordercast mounts, and
// holds the work-arounds for known defects of the zishang520 v3 library
// (see workarounds.go and the README's "Library issues and workarounds").
package sockets

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Path is where the Socket.IO endpoint is mounted.
const Path = "/socket.io"

// Config of the Socket.IO server.
type Config struct {
	// Transports: any of "polling", "websocket".
	Transports []string
	// MaxMessageBytes bounds one HTTP long-poll body or WebSocket frame.
	MaxMessageBytes int64
	// ConnectTimeout closes a connection that has not joined a namespace in
	// time, so that a client whose CONNECT got lost retries (workaround 2).
	ConnectTimeout time.Duration
	// RecoveryWindow enables connection state recovery when positive.
	RecoveryWindow time.Duration
	PingInterval   time.Duration
	PingTimeout    time.Duration
	// Adapter replaces the in-memory adapter (e.g. Redis) when not nil.
	Adapter socket.AdapterConstructor
	// BinaryTimeout bounds how long a binary packet may take to arrive
	// whole (workaround 7); 0: 10 s.
	BinaryTimeout time.Duration
}

// Server is the Socket.IO server with ordercast's work-arounds applied.
type Server struct {
	IO      *socket.Server
	handler http.Handler
	engine  http.Handler // the library's own, without the workarounds
	polls   *pendingPolls
	closing atomic.Bool
}

// ParseTransports validates a comma-separated transport list.
func ParseTransports(s string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		switch t {
		case "polling", "websocket":
			out = append(out, t)
		case "":
		default:
			return nil, fmt.Errorf("unknown transport %q (want polling, websocket)", t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no transport in %q", s)
	}
	return out, nil
}

// New builds the server. Register middlewares and connection handlers on
// IO before serving.
func New(cfg Config) *Server {
	opts := socket.DefaultServerOptions()
	opts.SetPath(Path)
	opts.SetServeClient(false) // the binary serves the npm bundle itself
	ctors := types.NewSet[engine.TransportCtor]()
	for _, t := range cfg.Transports {
		switch t {
		case "polling":
			ctors.Add(engine.Polling)
		case "websocket":
			ctors.Add(engine.WebSocket)
		}
	}
	opts.SetTransports(ctors)
	opts.SetAllowUpgrades(ctors.Len() > 1)
	if cfg.MaxMessageBytes > 0 {
		opts.SetMaxHttpBufferSize(cfg.MaxMessageBytes)
	}
	if cfg.PingInterval > 0 {
		opts.SetPingInterval(cfg.PingInterval)
	}
	if cfg.PingTimeout > 0 {
		opts.SetPingTimeout(cfg.PingTimeout)
	}
	if cfg.ConnectTimeout > 0 {
		opts.SetConnectTimeout(cfg.ConnectTimeout)
	}
	// Status payloads are small; compressing each frame per recipient costs
	// more CPU than it saves bandwidth, so no frame is ever compressed: the
	// threshold is above any message, and ServeHTTP hides the client's
	// permessage-deflate offer so that it is never negotiated (an inflated
	// frame would escape the read limit). The option is set rather than nil
	// on purpose: with it nil the engine builds a gorilla PreparedMessage
	// per recipient of every broadcast, which doubles the CPU per delivery
	// (bench/RESULTS.md).
	opts.SetPerMessageDeflate(&types.PerMessageDeflate{Threshold: math.MaxInt32})
	opts.SetHttpCompression(nil)
	if cfg.RecoveryWindow > 0 {
		csr := socket.DefaultConnectionStateRecovery()
		csr.SetMaxDisconnectionDuration(cfg.RecoveryWindow.Milliseconds())
		// Middlewares run for recovered sockets too: they register the event
		// handlers, and a staff token that expired meanwhile is refused.
		csr.SetSkipMiddlewares(false)
		opts.SetConnectionStateRecovery(csr)
	}
	if cfg.Adapter != nil {
		opts.SetAdapter(cfg.Adapter)
	}

	io := socket.NewServer(nil, opts)
	s := &Server{IO: io, polls: newPendingPolls()}
	s.engine = io.ServeHandler(nil)
	// guard.go: workarounds 5, 6, 8; workarounds.go: 3, 14; sealwriter.go: 10.
	s.handler = guard(s.polls.wrap(sealWrites(s.engine)), cfg.MaxMessageBytes, io.Engine())
	binaryTimeout := cfg.BinaryTimeout
	if binaryTimeout <= 0 {
		binaryTimeout = 10 * time.Second
	}
	// Per-session listeners, added before the client has its OPEN packet
	// (sessions.go: workaround 15).
	onOpened(io.Engine(),
		watchEngine(io.Engine(), s.polls),               // workarounds.go: 1, 3, 14
		limitBinary(cfg.MaxMessageBytes, binaryTimeout), // guard.go: workaround 7
		holdUntilJoined(io, 5*time.Second),              // connectgate.go: workaround 9
	)
	return s
}

// ServeHTTP serves the Engine.IO endpoint.
// Once the server is closing, new handshakes are refused (503), so that
// clients reconnect to a process that stays up instead of this one.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() && r.URL.Query().Get("sid") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"code":5,"message":"server shutting down"}`))
		return
	}
	if r.Header.Get("Sec-WebSocket-Extensions") != "" {
		r = r.Clone(r.Context())
		r.Header.Del("Sec-WebSocket-Extensions") // no permessage-deflate (see New)
	}
	s.handler.ServeHTTP(w, r)
}

// Close disconnects every client at the transport level, so that stock
// clients reconnect on their own (to this process when it comes back, or to
// another one), and ends any long-poll still pending.
func (s *Server) Close() {
	s.closing.Store(true)
	s.IO.Close(nil)
	s.polls.endAll()
}
