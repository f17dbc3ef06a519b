package handlers

import (
	"bufio"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/origin"
)

// doKey is ts.do with an Idempotency-Key (none when key is "-"); it also
// returns the Idempotent-Replayed header.
func (ts *testServer) doKey(t *testing.T, method, path, bearer, key, body string) (response, string) {
	t.Helper()
	h := http.Header{}
	if key != "-" {
		h.Set(HeaderIdempotencyKey, key)
	}
	r, got := ts.send(t, method, path, bearer, body, h)
	return r, got.Get(HeaderIdempotentReplayed)
}

func (ts *testServer) eventCount(t *testing.T, id string) int {
	t.Helper()
	r := ts.do(t, "GET", "/api/orders/"+id, testAPIKey, "")
	evs, _ := r.body["events"].([]any)
	return len(evs)
}

// TestIdempotencyKeys walks the contract's safe retries step by step; each
// step depends on the ones before it.
func TestIdempotencyKeys(t *testing.T) {
	ts := newTestServer(t, Config{MaxMessageBytes: 4096})
	staff, _ := ts.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	order := `{"id":"K1","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100}`
	// The same JSON, re-encoded: other key order and spacing.
	reordered := "{ \"total\": 100, \"items\": [ {\"qty\":1, \"name\":\"Tea\"} ],\n \"customer\":\"Ada\", \"id\":\"K1\" }"
	steps := []struct {
		name                      string
		method, path, bearer, key string
		body                      string
		status                    int
		code                      string
		replayed                  bool
	}{
		{"create", "POST", "/api/orders", testAPIKey, "create-1", order, 201, "", false},
		{"replay", "POST", "/api/orders", testAPIKey, "create-1", order, 201, "", true},
		{"replay of re-encoded JSON", "POST", "/api/orders", testAPIKey, "create-1", reordered, 201, "", true},
		{"same key, other body", "POST", "/api/orders", testAPIKey, "create-1", strings.Replace(order, "100", "101", 1), 422, CodeIdempotencyMismatch, false},
		{"same key, other path", "POST", "/api/orders/K1/status", testAPIKey, "create-1", `{"status":"confirmed"}`, 422, CodeIdempotencyMismatch, false},
		{"no key: duplicate", "POST", "/api/orders", testAPIKey, "-", order, 409, CodeDuplicate, false},
		{"empty key", "POST", "/api/orders", testAPIKey, "", order, 400, CodeBadRequest, false},
		{"key with a space", "POST", "/api/orders", testAPIKey, "a b", order, 400, CodeBadRequest, false},
		{"key of 256", "POST", "/api/orders", testAPIKey, strings.Repeat("k", 256), order, 400, CodeBadRequest, false},
		{"key of 255", "POST", "/api/orders/K1/status", testAPIKey, strings.Repeat("k", 255), `{"status":"confirmed"}`, 200, "", false},
		{"status replay", "POST", "/api/orders/K1/status", testAPIKey, strings.Repeat("k", 255), `{"status":"confirmed"}`, 200, "", true},
		{"status without key: refused", "POST", "/api/orders/K1/status", testAPIKey, "-", `{"status":"confirmed"}`, 409, CodeInvalidTransition, false},
		{"a refused change is kept too", "POST", "/api/orders/K1/status", testAPIKey, "bad-move", `{"status":"delivered"}`, 409, CodeInvalidTransition, false},
		{"and replayed", "POST", "/api/orders/K1/status", testAPIKey, "bad-move", `{"status":"delivered"}`, 409, CodeInvalidTransition, true},
		{"staff keys are their own", "POST", "/api/orders/K1/status", staff, "create-1", `{"status":"packed"}`, 200, "", false},
		{"staff replay", "POST", "/api/orders/K1/status", staff, "create-1", `{"status":"packed"}`, 200, "", true},
		{"malformed body is kept", "POST", "/api/orders", testAPIKey, "junk", `{"id":`, 400, CodeBadRequest, false},
		{"malformed body replay", "POST", "/api/orders", testAPIKey, "junk", `{"id":`, 400, CodeBadRequest, true},
		{"unauthenticated keeps nothing", "POST", "/api/orders", "", "anon", order, 401, CodeUnauthorized, false},
		{"reissue for unknown order", "POST", "/api/orders/nope/tracking-token", testAPIKey, "re-0", ``, 404, CodeNotFound, false},
		{"reissue by staff", "POST", "/api/orders/K1/tracking-token", staff, "-", ``, 403, CodeForbidden, false},
		{"reissue", "POST", "/api/orders/K1/tracking-token", testAPIKey, "re-1", ``, 200, "", false},
		{"reissue replay", "POST", "/api/orders/K1/tracking-token", testAPIKey, "re-1", ``, 200, "", true},
	}
	bodies := map[string]string{}
	for _, st := range steps {
		r, replayed := ts.doKey(t, st.method, st.path, st.bearer, st.key, st.body)
		if r.status != st.status || r.code() != st.code || (replayed == "true") != st.replayed {
			t.Fatalf("%s: %d %q replayed=%q; want %d %q replayed=%v (%s)", st.name, r.status, r.code(), replayed, st.status, st.code, st.replayed, r.raw)
		}
		k := st.bearer + " " + st.key
		if st.replayed && bodies[k] != r.raw {
			t.Fatalf("%s: replayed body differs:\n%s\nfirst:\n%s", st.name, r.raw, bodies[k])
		}
		if !st.replayed {
			bodies[k] = r.raw
		}
	}
	// One order, three events: placed, confirmed, packed; replays added none.
	if n := ts.eventCount(t, "K1"); n != 3 {
		t.Fatalf("events of K1: %d, want 3", n)
	}
}

// TestIdempotencyConcurrentRetries: a burst of identical retries stores one
// order and one event; every answer is the first one's or in_progress.
func TestIdempotencyConcurrentRetries(t *testing.T) {
	ts := newTestServer(t, Config{MaxMessageBytes: 4096})
	order := `{"id":"burst","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100}`
	var mu sync.Mutex
	tokens := map[string]bool{}
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			r, _ := ts.doKey(t, "POST", "/api/orders", testAPIKey, "burst-key", order)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.status]++
			if tok, ok := r.body["trackingToken"].(string); ok {
				tokens[tok] = true
			}
			if r.status == 409 && r.code() != CodeIdempotencyInProgress {
				t.Errorf("409 %s, want %s", r.code(), CodeIdempotencyInProgress)
			}
		})
	}
	wg.Wait()
	if statuses[201] == 0 || statuses[201]+statuses[409] != 12 || len(tokens) != 1 {
		t.Fatalf("statuses %v, %d distinct tokens; want 201s with one token and 409 in progress", statuses, len(tokens))
	}
	if n := ts.eventCount(t, "burst"); n != 1 {
		t.Fatalf("events: %d, want 1", n)
	}
}

// TestReissueRevokes: the old token stops working for reads and streams,
// and an open stream with it ends; the new one works.
func TestReissueRevokes(t *testing.T) {
	ts := newTestServer(t, Config{MaxMessageBytes: 4096})
	old := ts.create(t, "R1")
	req, _ := http.NewRequest("GET", ts.URL+"/api/orders/R1/stream?token="+old, nil)
	res, err := ts.Client().Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", res, err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "data:") {
	} // the first event arrived: the stream is listening

	r, _ := ts.doKey(t, "POST", "/api/orders/R1/tracking-token", testAPIKey, "-", "")
	if r.status != 200 {
		t.Fatalf("reissue: %d %s", r.status, r.raw)
	}
	fresh := r.body["trackingToken"].(string)
	if fresh == old || !strings.HasSuffix(r.body["trackingUrl"].(string), "/track/R1?token="+fresh) {
		t.Fatalf("reissue answer %s", r.raw)
	}
	ended := make(chan struct{})
	go func() {
		for lines.Scan() {
		}
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream with the old token did not end")
	}
	for tok, want := range map[string]int{old: 403, fresh: 200} {
		if r := ts.do(t, "GET", "/api/orders/R1?token="+tok, "", ""); r.status != want {
			t.Errorf("read with token: %d, want %d", r.status, want)
		}
	}
	if r := ts.do(t, "GET", "/api/orders/R1/stream?token="+old, "", ""); r.status != 403 || r.code() != CodeForbidden {
		t.Errorf("stream with the old token: %d %s, want 403 forbidden", r.status, r.code())
	}
}

// TestIdempotencyCORS: a browser on an allowed origin may send the key and
// read whether the answer was replayed.
func TestIdempotencyCORS(t *testing.T) {
	ts := newTestServer(t, Config{MaxMessageBytes: 4096, AllowedOrigins: origin.List{"https://shop.example"}})
	req, _ := http.NewRequest("OPTIONS", ts.URL+"/api/orders", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "idempotency-key")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), HeaderIdempotencyKey) {
		t.Fatalf("preflight allows %q, want %s", res.Header.Get("Access-Control-Allow-Headers"), HeaderIdempotencyKey)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/api/orders", strings.NewReader(`{"customer":"Ada","items":[{"name":"Tea","qty":1}],"total":1}`))
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set(HeaderIdempotencyKey, "cors-1")
	res, err = ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 || res.Header.Get("Access-Control-Expose-Headers") != HeaderIdempotentReplayed {
		t.Fatalf("POST: %d, exposes %q; want 201 exposing %s", res.StatusCode, res.Header.Get("Access-Control-Expose-Headers"), HeaderIdempotentReplayed)
	}
}
