package handlers

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzIdempotencyKey: a key is accepted exactly when it is 1–255 visible
// ASCII characters, and then taken as sent; anything else is bad_request.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k", "6f1c2a9e-0d5b-4b8e-9d57-3f0c9a3d1e42", `"quoted"`, "", " ", "a b", "tab\t", "é", "\x7f", "~!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		key, present, err := checkIdempotencyKey([]string{k})
		valid := len(k) >= 1 && len(k) <= 255
		for i := 0; i < len(k); i++ {
			valid = valid && k[i] >= '!' && k[i] <= '~'
		}
		if !present {
			t.Fatal("a header sent is present")
		}
		if valid != (err == nil) || (valid && key != k) {
			t.Fatalf("key %q: accepted %v (%q), want %v", k, err == nil, key, valid)
		}
		if err != nil && toError(err).Code != CodeBadRequest {
			t.Fatalf("key %q: %v, want bad_request", k, err)
		}
		if _, _, err := checkIdempotencyKey([]string{k, k}); err == nil {
			t.Fatal("two headers accepted")
		}
	})
}

// FuzzRequestHash: two bodies compare equal exactly when they are the same
// JSON value (or the same bytes when not JSON); re-encoding a JSON body
// never changes its hash; method and path always count.
func FuzzRequestHash(f *testing.F) {
	for _, s := range [][2]string{
		{`{"a":1,"b":[1,2]}`, `{ "b" : [1, 2], "a" : 1 }`},
		{`{"a":1}`, `{"a":1.0}`},
		{`{"a":"\u00e9"}`, `{"a":"é"}`},
		{`{"a":1,"a":2}`, `{"a":2}`},
		{`{"id":`, `{"id":`},
		{"\xff", "\xfe"},
		{``, `null`},
		{`{"x":"<&>"}`, `{"x":"\u003c&\u003e"}`},
		{`[1e999]`, `[1E999]`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ha := requestHash("POST", "/api/orders", []byte(a))
		if !bytes.Equal(ha, requestHash("POST", "/api/orders", []byte(a))) {
			t.Fatal("hash not deterministic")
		}
		if bytes.Equal(ha, requestHash("POST", "/api/orders/x/status", []byte(a))) ||
			bytes.Equal(ha, requestHash("PUT", "/api/orders", []byte(a))) {
			t.Fatal("method or path ignored")
		}
		ca, aJSON := canonicalJSON([]byte(a))
		cb, bJSON := canonicalJSON([]byte(b))
		if aJSON {
			// Canonical forms are fixed points, and hash like the original.
			if again, ok := canonicalJSON(ca); !ok || !bytes.Equal(again, ca) {
				t.Fatalf("canonical form of %q is not canonical: %q -> %q", a, ca, again)
			}
			if !bytes.Equal(ha, requestHash("POST", "/api/orders", ca)) {
				t.Fatalf("%q and its canonical form %q hash apart", a, ca)
			}
		}
		same := bytes.Equal(ha, requestHash("POST", "/api/orders", []byte(b)))
		switch {
		case aJSON && bJSON:
			if same != sameJSON(t, a, b) {
				t.Fatalf("%q vs %q: same hash %v, but same JSON value %v", a, b, same, !same)
			}
			if same != bytes.Equal(ca, cb) {
				t.Fatal("hash and canonical form disagree")
			}
		case !aJSON && !bJSON:
			if same != (a == b) {
				t.Fatalf("raw bodies %q vs %q: same hash %v", a, b, same)
			}
		default:
			if same {
				t.Fatalf("JSON and non-JSON bodies %q, %q hash alike", a, b)
			}
		}
	})
}

// sameJSON compares two valid JSON texts as values, numbers by their text.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	decode := func(s string) any {
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}
