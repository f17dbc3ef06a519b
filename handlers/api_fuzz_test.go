package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ordercast/ordercast/internal/testenv"
	"github.com/ordercast/ordercast/orders"
)

// Fuzz properties, for every parser of outside input: never panic, never
// 5xx, and every error is JSON with one of the contract's codes, matching
// its status. Run with `make fuzz`; `go test` runs the seed corpus
// (testdata/fuzz/<Name>/) only.

// contractCodes maps each error code a client may see to its HTTP status.
var contractCodes = map[string]int{
	CodeBadRequest:        http.StatusBadRequest,
	CodeUnauthorized:      http.StatusUnauthorized,
	CodeForbidden:         http.StatusForbidden,
	CodeNotFound:          http.StatusNotFound,
	CodeInvalidTransition: http.StatusConflict,
	CodeDuplicate:         http.StatusConflict,
	CodeTooLarge:          http.StatusRequestEntityTooLarge,
	CodeRateLimited:       http.StatusTooManyRequests,
}

// checkAnswer fails unless rec is a success in ok or a contract error
// whose code is in codes.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, ok []int, codes ...string) {
	t.Helper()
	for _, s := range ok {
		if rec.Code == s {
			return
		}
	}
	if rec.Code >= 500 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	code := errorCode(rec.Body.Bytes())
	if want, known := contractCodes[code]; !known || want != rec.Code {
		t.Fatalf("%d with code %q (%s): not an error of the contract", rec.Code, code, rec.Body)
	}
	for _, c := range codes {
		if c == code {
			return
		}
	}
	t.Fatalf("%d %s: code %q not expected here (want one of %v)", rec.Code, rec.Body, code, codes)
}

func apiRequest(method, target, bearer string, body []byte) *http.Request {
	r := httptest.NewRequest(method, "/", bytes.NewReader(body))
	// The target is set after parsing so that fuzzed paths and queries
	// reach the router as a client could send them.
	r.URL = &url.URL{Path: target}
	if p, q, found := strings.Cut(target, "?"); found {
		r.URL.Path, r.URL.RawQuery = p, q
	}
	r.RequestURI = target
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return r
}

// checkText is the contract of every stored free text field.
func checkText(t *testing.T, field, s string, maxLen int) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < 1 || n > maxLen || strings.TrimSpace(s) != s {
		t.Fatalf("%s %q accepted: invalid UTF-8, empty, untrimmed or over %d characters", field, s, maxLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			t.Fatalf("%s %q accepted with a control character", field, s)
		}
	}
}

func FuzzCreateOrderBody(f *testing.F) {
	srv := newSecServer(f, Config{MaxMessageBytes: 16 << 10}, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, body))
		checkAnswer(t, rec, []int{http.StatusCreated}, CodeBadRequest, CodeDuplicate, CodeTooLarge)
		if rec.Code != http.StatusCreated {
			return
		}
		var out struct {
			Order         orders.Order `json:"order"`
			TrackingToken string       `json:"trackingToken"`
			TrackingURL   string       `json:"trackingUrl"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("201 body %s: %v", rec.Body, err)
		}
		o := out.Order
		if !orders.ValidID(o.ID) || o.Status != orders.Placed || o.LastSeq != 1 || out.TrackingToken == "" ||
			o.Total < 0 || len(o.Items) < 1 || len(o.Items) > orders.MaxItems || len(o.Currency) != 3 {
			t.Fatalf("created order breaks the contract: %s", rec.Body)
		}
		checkText(t, "customer", o.Customer, orders.MaxCustomerLen)
		for _, it := range o.Items {
			checkText(t, "item name", it.Name, orders.MaxItemNameLen)
			if it.Qty < 1 {
				t.Fatalf("qty %d accepted", it.Qty)
			}
		}
		if strings.Contains(out.TrackingURL, "<") || !strings.HasSuffix(out.TrackingURL, "/track/"+o.ID+"?token="+out.TrackingToken) {
			t.Fatalf("tracking URL %q", out.TrackingURL)
		}
	})
}

func FuzzStatusBody(f *testing.F) {
	srv := newSecServer(f, Config{MaxMessageBytes: 64 << 10}, nil)
	for _, id := range []string{"A", "B", "C"} {
		if rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, []byte(orderBody(id)))); rec.Code != http.StatusCreated {
			f.Fatalf("create %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		rec := srv.serve(apiRequest("POST", "/api/orders/"+url.PathEscape(id)+"/status", secAPIKey, body))
		// 301/307: the router cleaning a path such as "/api/orders/./status".
		checkAnswer(t, rec, []int{http.StatusOK, http.StatusMovedPermanently, http.StatusTemporaryRedirect},
			CodeBadRequest, CodeNotFound, CodeInvalidTransition, CodeTooLarge)
		if rec.Code != http.StatusOK {
			return
		}
		var out struct {
			Event orders.Event `json:"event"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("200 body %s: %v", rec.Body, err)
		}
		if _, ok := orders.ParseStatus(string(out.Event.Status)); !ok || out.Event.OrderID != id || out.Event.Seq < 2 {
			t.Fatalf("event breaks the contract: %s", rec.Body)
		}
	})
}

func FuzzListQuery(f *testing.F) {
	srv := newSecServer(f, Config{}, nil)
	for i := range 5 {
		id := "L" + strconv.Itoa(i)
		if rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, []byte(orderBody(id)))); rec.Code != http.StatusCreated {
			f.Fatalf("create %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		rec := srv.serve(apiRequest("GET", "/api/orders?"+rawQuery, secAPIKey, nil))
		checkAnswer(t, rec, []int{http.StatusOK}, CodeBadRequest)
		if rec.Code != http.StatusOK {
			return
		}
		var out struct {
			Orders []orders.Order `json:"orders"`
			Next   *string        `json:"next"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Orders == nil || out.Next == nil {
			t.Fatalf("200 body %s: %v", rec.Body, err)
		}
		limit := 20
		q, _ := url.ParseQuery(rawQuery)
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && q.Get("limit") != "" {
			limit = n
		}
		if len(out.Orders) > limit || len(out.Orders) > 100 {
			t.Fatalf("%d orders for limit %d", len(out.Orders), limit)
		}
		for i, o := range out.Orders {
			if q.Get("awaiting") != "reply" {
				break
			}
			if !o.AwaitingReply || (i > 0 && o.AwaitingSince.Before(*out.Orders[i-1].AwaitingSince)) {
				t.Fatalf("awaiting=reply returned %+v out of order or not waiting", o)
			}
		}
		if st := q.Get("status"); st != "" {
			for _, o := range out.Orders {
				if string(o.Status) != st {
					t.Fatalf("status filter %q returned a %s order", st, o.Status)
				}
			}
		}
	})
}

// cancelOnWrite ends an SSE stream served in-process once it has written
// its first batch, which holds the whole backlog after Last-Event-ID.
type cancelOnWrite struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(b []byte) (int, error) {
	w.cancel()
	return w.ResponseRecorder.Write(b)
}

func FuzzLastEventID(f *testing.F) {
	srv := newSecServer(f, Config{}, nil)
	if rec := srv.serve(apiRequest("POST", "/api/orders", secAPIKey, []byte(orderBody("E")))); rec.Code != http.StatusCreated {
		f.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	for _, st := range []string{"confirmed", "packed"} {
		if rec := srv.serve(apiRequest("POST", "/api/orders/E/status", secAPIKey, []byte(`{"status":"`+st+`"}`))); rec.Code != http.StatusOK {
			f.Fatalf("status: %d %s", rec.Code, rec.Body)
		}
	}
	f.Fuzz(func(t *testing.T, header, query string) {
		req := apiRequest("GET", "/api/orders/E/stream?lastEventId="+url.QueryEscape(query), secAPIKey, nil)
		if header != "" {
			req.Header["Last-Event-Id"] = []string{header}
		}
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		rec := &cancelOnWrite{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
		srv.router.ServeHTTP(rec, req.WithContext(ctx))
		checkAnswer(t, rec.ResponseRecorder, []int{http.StatusOK}, CodeBadRequest)
		if rec.Code != http.StatusOK {
			return
		}
		v := header
		if v == "" {
			v = query
		}
		last := int64(0)
		if v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				t.Fatalf("Last-Event-ID %q accepted", v)
			}
			last = n
		}
		sc := bufio.NewScanner(rec.Body)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= last || n > 3 {
					t.Fatalf("event id %q sent after Last-Event-ID %d", id, last)
				}
			}
		}
	})
}

// A service call is accepted with --webhook-secret only when its
// signature is exactly the one the secret gives; the clock is fixed so
// that seed signatures stay valid.
func FuzzWebhookSignature(f *testing.F) {
	clock := testenv.NewClock()
	srv := newSecServer(f, Config{WebhookSecret: webhookSecret, MaxMessageBytes: 64 << 10}, clock.Now)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		req := apiRequest("POST", "/api/orders", secAPIKey, body)
		req.Header[HeaderTimestamp] = []string{ts}
		req.Header[HeaderSignature] = []string{sig}
		rec := srv.serve(req)
		checkAnswer(t, rec, []int{http.StatusCreated}, CodeUnauthorized, CodeBadRequest, CodeDuplicate, CodeTooLarge)
		if rec.Code == http.StatusUnauthorized {
			return
		}
		n, ok := parseTimestamp(ts)
		got, okSig := parseSignature(sig)
		want, _ := parseSignature(Sign(webhookSecret, n, "/api/orders", body))
		if !ok || !okSig || string(got) != string(want) {
			t.Fatalf("a request with a wrong signature got %d %s", rec.Code, rec.Body)
		}
	})
}
