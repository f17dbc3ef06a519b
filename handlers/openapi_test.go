package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/ordercast/ordercast/docs"
)

// This file checks every response the handler tests see against
// docs/openapi.yaml (as served, in JSON): the status must be documented for
// the route, and the body must match its schema, where additionalProperties
// false makes an undocumented field an error. It is wired in one place,
// validateResponses around the router of newTestServer and newSecServer.

// apiSpec is the loaded document and its path templates.
type apiSpec struct {
	doc   *openapi3.T
	paths []specPath
}

type specPath struct {
	template string
	segments []string
	item     *openapi3.PathItem
}

// loadSpec loads the document once per test binary.
var loadSpec = sync.OnceValues(func() (*apiSpec, error) {
	b, err := docs.OpenAPIJSON()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	s := &apiSpec{doc: doc}
	for tmpl, item := range doc.Paths.Map() {
		s.paths = append(s.paths, specPath{template: tmpl, segments: strings.Split(tmpl, "/"), item: item})
	}
	return s, nil
})

func mustSpec(tb testing.TB) *apiSpec {
	tb.Helper()
	s, err := loadSpec()
	if err != nil {
		tb.Fatalf("docs/openapi.yaml: %v", err)
	}
	return s
}

// find returns the path template matching path, preferring the one with
// the fewest parameters (a literal segment beats {id}). A last segment
// {file} takes the rest of the path (nested static files).
func (s *apiSpec) find(path string) (*specPath, map[string]string) {
	got := strings.Split(path, "/")
	var best *specPath
	var bestParams map[string]string
	for i := range s.paths {
		p := &s.paths[i]
		params, ok := matchSegments(p.segments, got)
		if ok && (best == nil || len(params) < len(bestParams)) {
			best, bestParams = p, params
		}
	}
	return best, bestParams
}

func matchSegments(tmpl, got []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, seg := range tmpl {
		if i >= len(got) {
			return nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			if got[i] == "" {
				return nil, false
			}
			if name == "file" && i == len(tmpl)-1 {
				params[name] = strings.Join(got[i:], "/")
				return params, true
			}
			params[name] = got[i]
			continue
		}
		if seg != got[i] {
			return nil, false
		}
	}
	return params, len(tmpl) == len(got)
}

// check validates one response to req. stream is true for a response
// whose body never ends (SSE): then only its status and headers are checked.
func (s *apiSpec) check(req *http.Request, status int, header http.Header, body []byte, stream bool) error {
	path := req.URL.Path
	if strings.HasPrefix(path, "/socket.io/") {
		return nil // Engine.IO framing, not JSON; its events are asyncapi.yaml's
	}
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		return nil // a CORS preflight is the browser's protocol, not an API call
	}
	p, params := s.find(path)
	if p == nil {
		if status != http.StatusNotFound {
			return fmt.Errorf("status %d on a path the document does not know (only 404 is expected there)", status)
		}
		return s.matches("NotFoundError", header, body)
	}
	op := p.item.GetOperation(req.Method)
	if op == nil {
		// gin answers a known path with an unknown method 405 (bad_request).
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("status %d for method %s, which %s does not document (only 405 is expected)", status, req.Method, p.template)
		}
		return s.matches("Error", header, body)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      &routers.Route{Spec: s.doc, Path: p.template, PathItem: p.item, Method: req.Method, Operation: op},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: stream, MultiError: true},
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// matches checks a JSON body against a named component schema.
func (s *apiSpec) matches(schema string, header http.Header, body []byte) error {
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("content type %q, want application/json", header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	ref := s.doc.Components.Schemas[schema]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("no schema %s in the document", schema)
	}
	return ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

// reporter is the part of testing.TB that validateResponses needs; a test
// passes a fake to see what it reports.
type reporter interface {
	Errorf(format string, args ...any)
}

// validateResponses wraps a handler so that every response it writes is
// checked against the document; a mismatch fails the test (t.Errorf is
// safe from the server's goroutines, and the servers of these tests are
// closed in Cleanup, before the test ends).
func validateResponses(t reporter, spec *apiSpec, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") {
			next.ServeHTTP(w, r) // may be hijacked for WebSocket: leave it alone
			return
		}
		rec := &validatingWriter{ResponseWriter: w, req: r, spec: spec, t: t}
		next.ServeHTTP(rec, r)
		rec.finish()
	})
}

// validatingWriter passes everything through and keeps a copy of the body.
type validatingWriter struct {
	http.ResponseWriter
	req    *http.Request
	spec   *apiSpec
	t      reporter
	status int
	stream bool
	body   bytes.Buffer
}

func (w *validatingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type")); mt == "text/event-stream" {
			// The stream may last for the whole test: check what is known now.
			w.stream = true
			w.report(w.spec.check(w.req, code, w.Header().Clone(), nil, true))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *validatingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.stream {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps SSE working through the wrapper.
func (w *validatingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *validatingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *validatingWriter) finish() {
	if w.stream {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.report(w.spec.check(w.req, w.status, w.Header(), w.body.Bytes(), false))
}

func (w *validatingWriter) report(err error) {
	if err != nil {
		body := w.body.String()
		if len(body) > 500 {
			body = body[:500] + "…"
		}
		w.t.Errorf("response not as docs/openapi.yaml documents it: %s %s -> %d %s\n%v", w.req.Method, w.req.URL.Path, w.status, body, err)
	}
}

// fakeReporter collects what validateResponses reports.
type fakeReporter struct {
	mu   sync.Mutex
	errs []string
}

func (f *fakeReporter) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

// TestOpenAPIValidatorCatches proves that the validator is not a rubber
// stamp: undocumented fields, statuses, codes and routes all fail.
func TestOpenAPIValidatorCatches(t *testing.T) {
	spec := mustSpec(t)
	order := `{"id":"A","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100,"currency":"EUR","status":"placed","lastSeq":1,"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z","assignee":null,"awaitingReply":false,"awaitingSince":null}`
	created := `{"order":` + order + `,"trackingToken":"0123456789abcdef0123","trackingUrl":"http://x/track/A?token=0123456789abcdef0123"}`
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name         string
		method, path string
		status       int
		body         string
		ok           bool
	}{
		{"documented create", "POST", "/api/orders", 201, created, true},
		{"0.2 order fields typed", "POST", "/api/orders", 201,
			strings.Replace(created, `"assignee":null,"awaitingReply":false,"awaitingSince":null`, `"assignee":"Sam","awaitingReply":true,"awaitingSince":"2026-01-02T03:04:05Z"`, 1), true},
		{"0.2 order field missing", "POST", "/api/orders", 201, strings.Replace(created, `,"awaitingSince":null`, ``, 1), false},
		{"undocumented order field", "POST", "/api/orders", 201, strings.Replace(created, `"lastSeq":1`, `"lastSeq":1,"secret":"x"`, 1), false},
		{"undocumented top-level field", "POST", "/api/orders", 201, strings.Replace(created, `{"order"`, `{"debug":1,"order"`, 1), false},
		{"missing field", "POST", "/api/orders", 201, strings.Replace(created, `"currency":"EUR",`, ``, 1), false},
		{"wrong type", "POST", "/api/orders", 201, strings.Replace(created, `"total":100`, `"total":"100"`, 1), false},
		{"assignee must be string or null", "POST", "/api/orders", 201, strings.Replace(created, `"assignee":null`, `"assignee":5`, 1), false},
		{"undocumented status", "GET", "/healthz", 418, `{"status":"ok"}`, false},
		{"code not of its status", "GET", "/api/orders/A", 404, `{"error":{"code":"forbidden","message":"x"}}`, false},
		{"code outside the enum", "GET", "/api/orders/A", 404, `{"error":{"code":"gone","message":"x"}}`, false},
		{"error with an extra field", "GET", "/api/orders/A", 404, `{"error":{"code":"not_found","message":"x","stack":"..."}}`, false},
		{"error without a message", "GET", "/api/orders/A", 404, `{"error":{"code":"not_found","message":""}}`, false},
		{"documented error", "GET", "/api/orders/A", 404, `{"error":{"code":"not_found","message":"no such order"}}`, true},
		{"unknown path: 404 error", "GET", "/api/nothing", 404, `{"error":{"code":"not_found","message":"no such route"}}`, true},
		{"unknown path: 200", "GET", "/api/nothing", 200, `{}`, false},
		{"unknown method: 405", "PUT", "/api/orders", 405, `{"error":{"code":"bad_request","message":"method not allowed"}}`, true},
		{"unknown method: 200", "DELETE", "/api/orders/A", 200, `{}`, false},
		{"message event in a status answer", "POST", "/api/orders/A/status", 200,
			`{"event":{"type":"order:message","orderId":"A","seq":2,"from":"customer","author":"Ada","text":"hi","at":"2026-01-02T03:04:05Z"}}`, false},
		{"event with both shapes", "GET", "/api/orders/A", 200,
			`{"order":` + order + `,"events":[{"type":"order:status","orderId":"A","seq":1,"status":"placed","note":"","at":"2026-01-02T03:04:05Z","by":"service","text":"x"}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			err := spec.check(req, tt.status, jsonHeader, []byte(tt.body), false)
			if (err == nil) != tt.ok {
				t.Fatalf("check = %v, want ok=%v", err, tt.ok)
			}
		})
	}

	// And through the wrapper, as the test servers use it.
	fake := &fakeReporter{}
	h := validateResponses(fake, spec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","uptime":3}`))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if len(fake.errs) != 1 || !strings.Contains(fake.errs[0], "uptime") {
		t.Fatalf("wrapper reported %q, want the undocumented field uptime", fake.errs)
	}
}

// TestOpenAPIServed checks GET /api/openapi.json and the routes the error
// table of api_test.go does not reach; every answer passes through the
// validator of newTestServer.
func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t, Config{})
	r := ts.do(t, "GET", "/api/openapi.json", "", "")
	want, _ := docs.OpenAPIJSON()
	if r.status != 200 || r.raw != string(want) {
		t.Fatalf("GET /api/openapi.json = %d, %d bytes; want the document", r.status, len(r.raw))
	}
	if _, err := openapi3.NewLoader().LoadFromData([]byte(r.raw)); err != nil {
		t.Fatal(err)
	}
	tok := ts.create(t, "S1")
	support, _ := ts.signer.Issue("Sam", "support", time.Hour)
	for _, c := range []struct {
		method, path, bearer string
		status               int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/", "", 200}, // the client follows the 302 to /support; both are checked
		{"GET", "/track/S1?token=" + tok, "", 200},
		{"GET", "/support", "", 200},
		{"GET", "/admin", "", 200},
		{"GET", "/static/nothing.js", "", 404},
		{"GET", "/api/orders?awaiting=reply", support, 200},
		{"GET", "/api/orders?status=placed&limit=1", testAPIKey, 200},
		{"GET", "/api/orders/S1", support, 200},
		{"PUT", "/api/orders", testAPIKey, 405},
	} {
		if r := ts.do(t, c.method, c.path, c.bearer, ""); r.status != c.status {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.raw, c.status)
		}
	}
	if r := ts.do(t, "POST", "/api/orders/S1/status", support, `{"status":"confirmed","note":"ok"}`); r.status != 200 {
		t.Fatal(r.raw)
	}

	// The SSE stream: status and headers are checked when it starts.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/orders/S1/stream?token="+tok, nil)
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := res.Body.Read(buf)
	if res.StatusCode != 200 || n == 0 || !bytes.Contains(buf[:n], []byte("retry:")) {
		t.Fatalf("stream = %d %q %v", res.StatusCode, buf[:n], err)
	}
	cancel()
	res.Body.Close()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal(ctx.Err())
	}
}
