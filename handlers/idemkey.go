package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// HeaderIdempotencyKey and HeaderIdempotentReplayed are the headers of
// safe retries (contract 0.2, the IETF httpapi draft).
const (
	HeaderIdempotencyKey     = "Idempotency-Key"
	HeaderIdempotentReplayed = "Idempotent-Replayed"
	maxIdempotencyKey        = 255
)

// checkIdempotencyKey returns the key of a request's Idempotency-Key
// headers: present is false without one; a key that is not 1–255 visible
// ASCII characters (%x21-7E), or a header sent twice, is bad_request. The
// value is taken as sent, quotes included: a key is opaque and compared
// exactly.
func checkIdempotencyKey(values []string) (key string, present bool, err error) {
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, badRequest(HeaderIdempotencyKey + ": send one header, not several")
	}
	k := values[0]
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return "", true, badRequest(HeaderIdempotencyKey + ": must be 1-255 visible ASCII characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", true, badRequest(HeaderIdempotencyKey + ": must be 1-255 visible ASCII characters")
		}
	}
	return k, true, nil
}

// requestHash identifies a request for an Idempotency-Key: its method, its
// path as sent (no query) and its body. A body that is valid UTF-8 JSON is
// canonicalised first, so that a retry that re-encodes the same JSON
// (other key order, other spacing) is the same request: objects' keys
// sorted, insignificant space removed, strings re-escaped, numbers kept as
// written (1 and 1.0 differ). A duplicate key counts as its last value, as
// the handlers decode it. Any other body is compared byte for byte.
func requestHash(method, path string, body []byte) []byte {
	h := sha256.New()
	canon, isJSON := canonicalJSON(body)
	kind := "raw"
	if isJSON {
		kind, body = "json", canon
	}
	for _, part := range [][]byte{[]byte(method), []byte(path), []byte(kind)} {
		h.Write(part)
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
}

// canonicalJSON is body's canonical form, when body is one JSON value in
// valid UTF-8.
func canonicalJSON(body []byte) ([]byte, bool) {
	if !utf8.Valid(body) {
		return nil, false // the decoder would replace bytes, merging bodies
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, false
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), true
}
