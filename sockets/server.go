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
	// time (the library's default is 45 s).
	ConnectTimeout time.Duration
	// RecoveryWindow enables connection state recovery when positive.
	RecoveryWindow time.Duration
	PingInterval   time.Duration
	PingTimeout    time.Duration
	// Adapter replaces the in-memory adapter (e.g. Redis) when not nil.
	Adapter socket.AdapterConstructor
	// BinaryTimeout bounds how long a binary packet may take to arrive
	// whole (binarywatch.go); 0: 10 s.
	BinaryTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one Socket.IO packet
	// (parser.go); 0: 1, all ordercast's JSON events need.
	MaxAttachments int
	// AllowOrigin reports whether a cross-origin browser may open a
	// WebSocket (origin.go); nil: same origin only.
	AllowOrigin func(origin string) bool
	// ForeignPeers: Node socket.io servers share the Redis adapter's rooms
	// and must get ordercast's emits too (EmitForeign). Each such emit is
	// evaluated by every process's adapter, so it is off unless asked for.
	ForeignPeers bool
	// libraryWebSocket: the library's WebSocket transport instead of
	// ordercast's (wstransport.go); for A/B benchmarks.
	libraryWebSocket bool
	// libraryPolling: the library's long-polling transport instead of
	// ordercast's (polltransport.go); for A/B benchmarks.
	libraryPolling bool
	// noCork: ordercast's transport writes every frame at once (A/B of
	// wscork.go).
	noCork bool
	// noHold: BatchReplies writes each ack at once (A/B of wshold.go).
	noHold bool
}

// Server is the Socket.IO server with ordercast's work-arounds applied.
type Server struct {
	IO      *socket.Server
	handler http.Handler
	closing atomic.Bool
	// remote: broadcasts go through another process's codec (broadcast.go).
	remote bool
	// foreign: EmitForeign reaches Node servers on the adapter.
	foreign bool
	// cork holds broadcast frames while an emit runs (wscork.go).
	cork *corker
	// encodes counts the packets the library encoded (Encodes).
	encodes *atomic.Int64
	noHold  bool
}

// Encodes counts the Socket.IO packets encoded so far: one per broadcast
// (whatever its rooms and recipients), one per packet to a single socket.
func (s *Server) Encodes() int64 { return s.encodes.Load() }

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
	cork := &corker{}
	wsCork := cork
	if cfg.noCork {
		wsCork = nil
	}
	encodes := new(atomic.Int64)
	io := socket.NewServer(nil, options(cfg, wsCork, encodes))
	s := &Server{IO: io, remote: cfg.Adapter != nil, foreign: cfg.Adapter != nil && cfg.ForeignPeers,
		cork: cork, encodes: encodes, noHold: cfg.noHold}
	if s.foreign {
		_ = io.On("connection", func(args ...any) {
			if so, ok := args[0].(*socket.Socket); ok {
				so.Join(ServedRoom)
			}
		})
	}
	// pollguard.go: defect 6 and input hardening; sealwriter.go: defect 10;
	// origin.go: the v3.0.6 Origin regression; pollclose.go, pollupgrade.go:
	// protocol conformance (doc.go).
	engineHandler := io.ServeHandler(nil) // creates the engine: before io.Engine()
	eio := io.Engine()
	s.handler = allowOrigins(
		guardPolling(
			closeAfterPark(eio, cfg.MaxMessageBytes,
				servePolling(eio, sealWrites(refuseOvertaken(eio, engineHandler)))),
			cfg.MaxMessageBytes, eio),
		cfg.AllowOrigin)
	binaryTimeout := cfg.BinaryTimeout
	if binaryTimeout <= 0 {
		binaryTimeout = 10 * time.Second
	}
	// Per-session listeners, added before the client has its OPEN packet
	// (sessions.go: defect 15).
	onOpened(io.Engine(),
		limitBinary(cfg.MaxMessageBytes, binaryTimeout), // binarywatch.go: defect 7
		holdUntilJoined(io, 5*time.Second),              // connectgate.go: defect 9
	)
	return s
}

func options(cfg Config, cork *corker, encodes *atomic.Int64) *socket.ServerOptions {
	opts := socket.DefaultServerOptions()
	opts.SetPath(Path)
	opts.SetServeClient(false) // the binary serves the npm bundle itself
	maxMessage := cfg.MaxMessageBytes
	if maxMessage <= 0 {
		maxMessage = 1e6 // the engine's default
	}
	opts.SetMaxHttpBufferSize(maxMessage)
	pingInterval, pingTimeout := cfg.PingInterval, cfg.PingTimeout
	// Node's defaults are 25 s / 20 s. Swapped here, the same 45 s to tell
	// a dead client (the client waits for a PING as long), and defect 18
	// cannot close a session: a stray ping timeout is cleared by the next
	// PING, 5 s before it would fire.
	if pingInterval <= 0 {
		pingInterval = 20 * time.Second
	}
	if pingTimeout <= 0 {
		pingTimeout = 25 * time.Second
	}
	ctors := types.NewSet[engine.TransportCtor]()
	for _, t := range cfg.Transports {
		switch t {
		case "polling":
			if cfg.libraryPolling {
				ctors.Add(engine.Polling)
			} else {
				ctors.Add(&pollBuilder{}) // polltransport.go
			}
		case "websocket":
			if cfg.libraryWebSocket {
				ctors.Add(engine.WebSocket)
			} else {
				ctors.Add(&wsBuilder{cork: cork, limit: maxMessage, // wstransport.go
					pingDelay: pingWriteDelay(pingInterval, pingTimeout)}) // defect 18
			}
		}
	}
	opts.SetTransports(ctors)
	opts.SetAllowUpgrades(ctors.Len() > 1)
	opts.SetPingInterval(pingInterval)
	opts.SetPingTimeout(pingTimeout)
	// v3.0.6 closes an HTTP connection idle for this long (default 120 s).
	// A long-poll is idle for up to a ping interval, and a client may be
	// slow for the ping timeout on top: never less than their sum.
	opts.SetIdleTimeout(idleTimeout(pingInterval, pingTimeout))
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
	// The library's transports consume the packets they write, so a packet
	// is shared by its recipients only with ordercast's (sharedtext.go).
	opts.SetParser(strictParser{maxAttachments: uint64(max(cfg.MaxAttachments, 0)), encodes: encodes,
		copies: cfg.libraryPolling || cfg.libraryWebSocket})
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
	return opts
}

// idleTimeout is the HTTP idle timeout for the given heartbeat, with a
// margin for the client's round trip.
func idleTimeout(pingInterval, pingTimeout time.Duration) time.Duration {
	return max(120*time.Second, pingInterval+pingTimeout+5*time.Second)
}

// ServeHTTP serves the Engine.IO endpoint.
// Once the server is closing, new handshakes are refused (503), so that
// clients reconnect to a process that stays up instead of this one
// (defect 4: Server.Close lets handshakes in while it closes).
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
		r.Header.Del("Sec-WebSocket-Extensions") // no permessage-deflate (see options)
	}
	s.handler.ServeHTTP(w, r)
}

// Close disconnects every client at the transport level, so that stock
// clients reconnect on their own (to this process when it comes back, or to
// another one); pending long-polls are answered with a CLOSE packet.
func (s *Server) Close() {
	s.closing.Store(true)
	s.IO.Close(nil)
}
