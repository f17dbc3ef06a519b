package metrics

import (
	"net/http"
	"net/http/pprof"
)

// Mux is the handler of the separate metrics listener: /metrics, and the
// pprof endpoints under /debug/pprof/ only when withPprof is set. pprof is
// never mounted on the public listener. /debug/pprof/cmdline is left out on
// purpose: the command line may hold --api-key and --secret.
func (m *Metrics) Mux(withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves the named profiles (heap, goroutine, ...)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
