package sockets

import (
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/ordercast/ordercast/origin"
)

// allowOrigins works around a v3.0.6 regression (servers/engine/v3
// server.go HandleUpgrade): the engine gives gorilla's Upgrader a
// CheckOrigin only when its own Cors option is set; otherwise gorilla's
// same-origin check refuses every cross-origin upgrade, so browsers on the
// origins of --allowed-origins stay on long-polling. ordercast does not
// set the engine's Cors (its router answers CORS for every route), so here
// an upgrade from an allowed origin reaches the engine without its Origin
// header, which gorilla lets through. Any other cross-origin upgrade keeps
// its header and gets no 101.
func allowOrigins(next http.Handler, allow func(origin string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := r.Header.Get("Origin")
		if o != "" && allow != nil && websocket.IsWebSocketUpgrade(r) && !origin.Same(o, r.Host) && allow(o) {
			r = r.Clone(r.Context())
			r.Header.Del("Origin")
		}
		next.ServeHTTP(w, r)
	})
}
