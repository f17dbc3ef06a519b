package handlers

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/internal/testenv"
)

const webhookSecret = "whsec-test-0123456789"

func orderBody(id string) string {
	return `{"id":"` + id + `","customer":"Ada","items":[{"name":"Tea","qty":1}],"total":100}`
}

func TestWebhookSignature(t *testing.T) {
	clock := testenv.NewClock()
	srv := newSecServer(t, Config{WebhookSecret: webhookSecret, MaxMessageBytes: 4096}, clock.Now)
	now := clock.Now().Unix()
	staff, err := srv.signer.Issue("Sam", auth.RoleSupport, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	type req struct {
		method, path, bearer, body string
		// ts and sig are the headers sent; "-" leaves one out.
		ts, sig string
	}
	signed := func(method, path, body string, ts int64) req {
		return req{method, path, secAPIKey, body, strconv.FormatInt(ts, 10), Sign(webhookSecret, ts, path, []byte(body))}
	}
	tests := []struct {
		name     string
		req      req
		want     int
		wantCode string
	}{
		{"signed create", signed("POST", "/api/orders", orderBody("W1"), now), http.StatusCreated, ""},
		{"signed status change", signed("POST", "/api/orders/W1/status", `{"status":"confirmed"}`, now), http.StatusOK, ""},
		{"the same signed request again: replay", signed("POST", "/api/orders/W1/status", `{"status":"confirmed"}`, now), http.StatusUnauthorized, CodeUnauthorized},
		{"no signature headers", req{"POST", "/api/orders", secAPIKey, orderBody("W2"), "-", "-"}, http.StatusUnauthorized, CodeUnauthorized},
		{"timestamp without signature", req{"POST", "/api/orders", secAPIKey, orderBody("W2"), strconv.FormatInt(now, 10), "-"}, http.StatusUnauthorized, CodeUnauthorized},
		{"signature of another body", func() req {
			r := signed("POST", "/api/orders", orderBody("W2"), now)
			r.body = orderBody("W3")
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"a body signed for another order's path", func() req {
			r := signed("POST", "/api/orders/W1/status", `{"status":"packed"}`, now)
			r.path = "/api/orders/W9/status"
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"signed with another secret", func() req {
			r := signed("POST", "/api/orders", orderBody("W2"), now)
			r.sig = Sign("another-secret", now, "/api/orders", []byte(orderBody("W2")))
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"timestamp changed after signing", func() req {
			r := signed("POST", "/api/orders", orderBody("W2"), now)
			r.ts = strconv.FormatInt(now-1, 10)
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"5 min + 1 s old", signed("POST", "/api/orders", orderBody("W2"), now-301), http.StatusUnauthorized, CodeUnauthorized},
		{"5 min + 1 s ahead", signed("POST", "/api/orders", orderBody("W2"), now+301), http.StatusUnauthorized, CodeUnauthorized},
		{"exactly 5 min old is still in the window", signed("POST", "/api/orders", orderBody("W4"), now-300), http.StatusCreated, ""},
		{"timestamp not a number", func() req {
			r := signed("POST", "/api/orders", orderBody("W2"), now)
			r.ts = "+" + r.ts
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"signature not hex", req{"POST", "/api/orders", secAPIKey, orderBody("W2"), strconv.FormatInt(now, 10), "sha256=" + strings.Repeat("zz", 32)}, http.StatusUnauthorized, CodeUnauthorized},
		{"signature without sha256=", func() req {
			r := signed("POST", "/api/orders", orderBody("W2"), now)
			r.sig = strings.TrimPrefix(r.sig, "sha256=")
			return r
		}(), http.StatusUnauthorized, CodeUnauthorized},
		{"body over the size limit", signed("POST", "/api/orders", strings.Repeat(" ", 5000), now), http.StatusRequestEntityTooLarge, CodeTooLarge},
		{"staff tokens need no signature", req{"POST", "/api/orders/W1/status", staff, `{"status":"packed"}`, "-", "-"}, http.StatusOK, ""},
		{"reads with the API key need no signature", req{"GET", "/api/orders/W1", secAPIKey, "", "-", "-"}, http.StatusOK, ""},
		{"a bad API key is refused before any signature check", req{"POST", "/api/orders", "wrong", orderBody("W5"), "-", "-"}, http.StatusUnauthorized, CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.req.method, tt.req.path, strings.NewReader(tt.req.body))
			r.Header.Set("Authorization", "Bearer "+tt.req.bearer)
			if tt.req.ts != "-" {
				r.Header.Set(HeaderTimestamp, tt.req.ts)
			}
			if tt.req.sig != "-" {
				r.Header.Set(HeaderSignature, tt.req.sig)
			}
			rec := srv.serve(r)
			if rec.Code != tt.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if code := errorCode(rec.Body.Bytes()); code != tt.wantCode {
				t.Fatalf("code %q, want %q", code, tt.wantCode)
			}
			// Secrets never come back in an answer.
			for _, secret := range []string{webhookSecret, secAPIKey, tt.req.sig} {
				if len(secret) > 8 && strings.Contains(rec.Body.String(), secret) {
					t.Fatalf("answer holds a secret: %s", rec.Body)
				}
			}
		})
	}
}

// Without --webhook-secret, the API key alone is enough (the default).
func TestWebhookSignatureOff(t *testing.T) {
	srv := newSecServer(t, Config{}, nil)
	r := httptest.NewRequest("POST", "/api/orders", strings.NewReader(orderBody("U1")))
	r.Header.Set("Authorization", "Bearer "+secAPIKey)
	if rec := srv.serve(r); rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// Replays are remembered only while their timestamp is in the window.
func TestWebhookReplayCachePrunes(t *testing.T) {
	clock := testenv.NewClock()
	v := newWebhookVerifier(webhookSecret, clock.Now)
	for i := range 100 {
		ts := clock.Now().Unix()
		body := []byte(strconv.Itoa(i))
		if err := v.verify(strconv.FormatInt(ts, 10), Sign(webhookSecret, ts, "/p", body), "/p", body); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	clock.Advance(SignatureWindow + time.Minute)
	ts := clock.Now().Unix()
	if err := v.verify(strconv.FormatInt(ts, 10), Sign(webhookSecret, ts, "/p", nil), "/p", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(v.seen); n != 1 {
		t.Fatalf("%d signatures remembered after the window passed, want 1", n)
	}
}
