package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/rooms"
	"github.com/ordercast/ordercast/sockets"
	"github.com/ordercast/ordercast/store"
)

const testAPIKey = "test-api-key"

// testServer is the real router over a real SQLite store and a real
// Socket.IO server, as main.go wires them.
type testServer struct {
	*httptest.Server
	signer *auth.Signer
}

func newTestServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sio := sockets.New(sockets.Config{Transports: []string{"polling", "websocket"}, MaxMessageBytes: 1 << 20})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	signer := auth.NewSigner([]byte("test-secret"), nil)
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	gin.SetMode(gin.TestMode)
	pages := fstest.MapFS{"track.html": {Data: []byte("<p>track</p>")}, "support.html": {Data: []byte("s")}, "admin.html": {Data: []byte("a")}}
	streams := rooms.NewStreams()
	r := New(cfg, Deps{Store: st, Publisher: rooms.NewHub(sio, streams, st, log), Streams: streams, Signer: signer,
		APIKey: auth.NewAPIKey(testAPIKey), Log: log, Checks: []Check{{Name: "store", Fn: st.Ping}},
		Socket: sio, Public: pages})
	r.Attach(sio.IO, sio, nil)
	srv := httptest.NewServer(validateResponses(t, mustSpec(t), r))
	t.Cleanup(func() { srv.Close(); sio.Close() })
	return &testServer{Server: srv, signer: signer}
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func (ts *testServer) do(t *testing.T, method, path, bearer, body string) response {
	t.Helper()
	r, _ := ts.send(t, method, path, bearer, body, nil)
	return r
}

// send is do with extra request headers; it also returns the response's.
func (ts *testServer) send(t *testing.T, method, path, bearer, body string, header http.Header) (response, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r, res.Header
}

func (r response) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (ts *testServer) create(t *testing.T, id string) (token string) {
	t.Helper()
	r := ts.do(t, "POST", "/api/orders", testAPIKey, `{"id":"`+id+`","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", id, r.status, r.raw)
	}
	return r.body["trackingToken"].(string)
}

func TestAPIErrors(t *testing.T) {
	ts := newTestServer(t, Config{MaxMessageBytes: 4096})
	tokA := ts.create(t, "A")
	ts.create(t, "B")
	ts.create(t, "D")
	if r := ts.do(t, "POST", "/api/orders/D/status", testAPIKey, `{"status":"confirmed"}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	support, _ := ts.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	expired, _ := auth.NewSigner([]byte("test-secret"), func() time.Time { return time.Now().Add(-time.Hour) }).Issue("Old", auth.RoleSupport, time.Minute)
	forged, _ := auth.NewSigner([]byte("other"), nil).Issue("Eve", auth.RoleAdmin, time.Hour)
	order := `{"customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100}`

	tests := []struct {
		name         string
		method, path string
		bearer, body string
		status       int
		code         string
	}{
		{"create ok", "POST", "/api/orders", testAPIKey, order, 201, ""},
		{"malformed JSON", "POST", "/api/orders", testAPIKey, `{"customer":`, 400, CodeBadRequest},
		{"not an object", "POST", "/api/orders", testAPIKey, `[1,2]`, 400, CodeBadRequest},
		{"empty body", "POST", "/api/orders", testAPIKey, ``, 400, CodeBadRequest},
		{"two objects", "POST", "/api/orders", testAPIKey, order + order, 400, CodeBadRequest},
		{"wrong type", "POST", "/api/orders", testAPIKey, `{"customer":5,"items":[],"total":1}`, 400, CodeBadRequest},
		{"unknown field", "POST", "/api/orders", testAPIKey, `{"customer":"A","items":[{"name":"x","qty":1}],"total":1,"admin":true}`, 400, CodeBadRequest},
		{"missing items", "POST", "/api/orders", testAPIKey, `{"customer":"A","total":1}`, 400, CodeBadRequest},
		{"fractional total", "POST", "/api/orders", testAPIKey, `{"customer":"A","items":[{"name":"x","qty":1}],"total":1.5}`, 400, CodeBadRequest},
		{"bad id", "POST", "/api/orders", testAPIKey, `{"id":"a b","customer":"A","items":[{"name":"x","qty":1}],"total":1}`, 400, CodeBadRequest},
		{"no key", "POST", "/api/orders", "", order, 401, CodeUnauthorized},
		{"wrong key", "POST", "/api/orders", "nope", order, 401, CodeUnauthorized},
		{"expired staff", "POST", "/api/orders/A/status", expired, `{"status":"confirmed"}`, 401, CodeUnauthorized},
		{"forged staff", "GET", "/api/orders", forged, ``, 401, CodeUnauthorized},
		{"staff creating", "POST", "/api/orders", support, order, 403, CodeForbidden},
		{"other order's token", "GET", "/api/orders/B?token=" + tokA, "", ``, 403, CodeForbidden},
		{"no token", "GET", "/api/orders/A", "", ``, 401, CodeUnauthorized},
		{"customer token as bearer", "POST", "/api/orders/A/status", tokA, `{"status":"confirmed"}`, 401, CodeUnauthorized},
		{"own token", "GET", "/api/orders/A?token=" + tokA, "", ``, 200, ""},
		{"not found", "GET", "/api/orders/nope", testAPIKey, ``, 404, CodeNotFound},
		{"status of missing order", "POST", "/api/orders/nope/status", testAPIKey, `{"status":"confirmed"}`, 404, CodeNotFound},
		{"unknown status", "POST", "/api/orders/A/status", testAPIKey, `{"status":"lost"}`, 400, CodeBadRequest},
		{"missing status", "POST", "/api/orders/A/status", testAPIKey, `{}`, 400, CodeBadRequest},
		{"skipping a step", "POST", "/api/orders/A/status", testAPIKey, `{"status":"shipped"}`, 409, CodeInvalidTransition},
		{"staff moves", "POST", "/api/orders/B/status", support, `{"status":"cancelled","note":"asked"}`, 200, ""},
		{"after cancel", "POST", "/api/orders/B/status", testAPIKey, `{"status":"confirmed"}`, 409, CodeInvalidTransition},
		{"duplicate id", "POST", "/api/orders", testAPIKey, `{"id":"A","customer":"A","items":[{"name":"x","qty":1}],"total":1}`, 409, CodeDuplicate},
		{"too large", "POST", "/api/orders", testAPIKey, `{"customer":"` + strings.Repeat("x", 5000) + `"}`, 413, CodeTooLarge},
		{"limit too big", "GET", "/api/orders?limit=101", testAPIKey, ``, 400, CodeBadRequest},
		{"limit not a number", "GET", "/api/orders?limit=ten", testAPIKey, ``, 400, CodeBadRequest},
		{"bad cursor", "GET", "/api/orders?before=%27%3B--", testAPIKey, ``, 400, CodeBadRequest},
		{"bad status filter", "GET", "/api/orders?status=lost", support, ``, 400, CodeBadRequest},
		{"list needs a credential", "GET", "/api/orders", "", ``, 401, CodeUnauthorized},
		{"bad Last-Event-ID", "GET", "/api/orders/A/stream?token=" + tokA + "&lastEventId=x", "", ``, 400, CodeBadRequest},
		{"stream of another order", "GET", "/api/orders/B/stream?token=" + tokA, "", ``, 403, CodeForbidden},
		{"no route", "GET", "/api/nothing", "", ``, 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, tt.method, tt.path, tt.bearer, tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("%s %s = %d %s, want %d %q", tt.method, tt.path, r.status, r.raw, tt.status, tt.code)
			}
			if tt.code != "" {
				e := r.body["error"].(map[string]any)
				if msg, _ := e["message"].(string); msg == "" {
					t.Fatalf("error without a message: %s", r.raw)
				}
				if strings.Contains(r.raw, tokA) || strings.Contains(r.raw, testAPIKey) {
					t.Fatalf("credential echoed: %s", r.raw)
				}
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, id := range []string{"o1", "o2", "o3", "o4", "o5"} {
		ts.create(t, id)
	}
	var seen []string
	path := "/api/orders?limit=2"
	for pages := 0; ; pages++ {
		r := ts.do(t, "GET", path, testAPIKey, "")
		if r.status != 200 {
			t.Fatal(r.raw)
		}
		for _, o := range r.body["orders"].([]any) {
			seen = append(seen, o.(map[string]any)["id"].(string))
		}
		next, _ := r.body["next"].(string)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		path = "/api/orders?limit=2&before=" + next
	}
	if strings.Join(seen, ",") != "o5,o4,o3,o2,o1" {
		t.Fatalf("pages = %v, want newest first, each once", seen)
	}
}

func TestReadyz(t *testing.T) {
	ts := newTestServer(t, Config{})
	r := ts.do(t, "GET", "/readyz", "", "")
	if r.status != 200 || r.body["checks"].(map[string]any)["store"] != "ok" {
		t.Fatalf("readyz = %d %s", r.status, r.raw)
	}
}
