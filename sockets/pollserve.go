package sockets

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
)

// servePolling hands a request of a session on ordercast's polling
// transport (polltransport.go) straight to that transport; anything else
// goes on to the engine. It does what the engine's HandleRequest and
// Verify do for such a request: the session is known and still on polling.
// (The engine's Origin check, for characters a header may not hold, is
// net/http's own: it refuses such a request before any handler.)
func servePolling(eio engine.BaseServer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, t := ownPolling(eio, r)
		switch {
		case t == nil:
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet:
			t.serveGET(w, r, conn)
		case r.Method == http.MethodPost:
			t.servePOST(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// ownPolling returns the session of a polling request and its transport
// when that is ordercast's.
func ownPolling(eio engine.BaseServer, r *http.Request) (engine.Socket, *pollTransport) {
	conn, ok := sessionOf(eio, r)
	if !ok {
		return nil, nil
	}
	t, _ := conn.Transport().(*pollTransport)
	return conn, t
}

// sessionOf returns the open session a polling request names.
func sessionOf(eio engine.BaseServer, r *http.Request) (engine.Socket, bool) {
	q := r.URL.RawQuery
	sid := queryValue(q, "sid")
	if sid == "" || queryValue(q, "transport") != transports.POLLING {
		return nil, false
	}
	return eio.Clients().Load(sid)
}

// serveGET parks a GET until the transport hands it a payload, then
// writes it from this goroutine.
func (t *pollTransport) serveGET(w http.ResponseWriter, r *http.Request, conn engine.Socket) {
	g := &pollGET{ready: make(chan struct{})}
	if status, body := t.park(g); status != 0 {
		_ = writePoll(w, status, body)
		return
	}
	select {
	case <-g.ready:
	case <-r.Context().Done():
		if !t.abandon(g) {
			// Taken as the client left: its packets are lost with the
			// request, so the session ends, as when the GET was parked.
			<-g.ready
			t.OnError("poll connection closed prematurely", nil)
		}
		return
	}
	status, body := http.StatusOK, g.body
	if conn.Upgraded() { // a GET the upgrade overtook (pollupgrade.go)
		status, body = afterUpgrade(conn, status, body)
	}
	if err := writePoll(w, status, body); err != nil {
		t.OnError("polling write error", err)
		return
	}
	t.drained(g.drains)
}

// servePOST answers a POST.
func (t *pollTransport) servePOST(w http.ResponseWriter, r *http.Request) {
	status, answer := t.readPost(r)
	_ = writePoll(w, status, answer)
}

// readPost reads a POST's payload (guardPolling has checked its size and
// packet types) and handles it; it returns the answer.
func (t *pollTransport) readPost(r *http.Request) (int, []byte) {
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		t.OnError("invalid content", nil) // binary payloads are EIO 3's
		return http.StatusBadRequest, []byte(errBadRequest)
	}
	limit := t.MaxHttpBufferSize()
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil || int64(len(body)) > limit {
		return http.StatusBadRequest, []byte(errBadRequest)
	}
	return t.post(body)
}

// writePoll writes a polling response: Engine.IO payloads are text, its
// errors JSON.
func writePoll(w http.ResponseWriter, status int, body []byte) error {
	setPollHeaders(w.Header(), status, body)
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// setPollHeaders sets the headers of a polling response.
func setPollHeaders(h http.Header, status int, body []byte) {
	if len(body) > 0 && body[0] == '{' {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/plain; charset=UTF-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusTooManyRequests {
		h.Set("Connection", "close") // the engine's answer to a POST in flight at close
	}
}

// queryValue returns the first value of key in a raw URL query, without
// parsing the whole query (url.ParseQuery was 7% of a polling delivery,
// parsed again by each step).
func queryValue(raw, key string) string {
	v, _ := queryLookup(raw, key)
	return v
}

// queryLookup returns the first value of key in a raw URL query, and
// whether the key is there at all (with a value or without).
func queryLookup(raw, key string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			v, _ = url.QueryUnescape(v)
		}
		return v, true
	}
	return "", false
}
