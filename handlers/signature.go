package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Webhook integrity: with --webhook-secret set, every POST /api/* call
// authenticated by the API key must also be signed, so that a leaked API
// key alone cannot write, and a captured request cannot be altered or
// replayed later:
//
//	X-Ordercast-Timestamp: <unix seconds>
//	X-Ordercast-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<path>.<raw body>")>
//
// <path> is the request path as sent, without the query string (e.g.
// /api/orders/o_1/status): a status body does not name its order, so
// signing the body alone would let one signed body be replayed against
// another order. A timestamp more than SignatureWindow away from the
// server's clock is refused, and within the window a signature is accepted
// once per process.
const (
	HeaderTimestamp = "X-Ordercast-Timestamp"
	HeaderSignature = "X-Ordercast-Signature"
	SignatureWindow = 5 * time.Minute
	signaturePrefix = "sha256="
)

// webhookVerifier checks signed service calls.
type webhookVerifier struct {
	secret []byte
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	seen      map[string]time.Time // signature -> when it leaves the window
	lastPrune time.Time
}

func newWebhookVerifier(secret string, now func() time.Time) *webhookVerifier {
	return &webhookVerifier{secret: []byte(secret), window: SignatureWindow, now: now,
		seen: map[string]time.Time{}, lastPrune: now()}
}

// Errors of a signature check; their text is what the client is told.
var (
	errSigMissing   = errors.New("signature required: " + HeaderTimestamp + " and " + HeaderSignature)
	errSigTimestamp = errors.New(HeaderTimestamp + ": must be unix seconds")
	errSigWindow    = errors.New(HeaderTimestamp + ": outside the allowed window of 5 minutes")
	errSigFormat    = errors.New(HeaderSignature + ": must be sha256=<64 hex digits>")
	errSigMismatch  = errors.New("signature does not match")
	errSigReplayed  = errors.New("signature already used")
)

// Sign returns the X-Ordercast-Signature value for a request (clients, tests).
func Sign(secret string, timestamp int64, path string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(signature([]byte(secret), strconv.FormatInt(timestamp, 10), path, body))
}

func signature(secret []byte, ts, path string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write([]byte(path))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// parseTimestamp accepts 1-12 ASCII digits: no sign, space or exponent.
func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 12 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseSignature decodes "sha256=<64 hex>".
func parseSignature(s string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(s, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	b, err := hex.DecodeString(hexSig)
	return b, err == nil
}

// verify checks one request's headers against its path and body.
func (v *webhookVerifier) verify(tsHeader, sigHeader, path string, body []byte) error {
	if tsHeader == "" || sigHeader == "" {
		return errSigMissing
	}
	ts, ok := parseTimestamp(tsHeader)
	if !ok {
		return errSigTimestamp
	}
	sig, ok := parseSignature(sigHeader)
	if !ok {
		return errSigFormat
	}
	now := v.now()
	at := time.Unix(ts, 0)
	if at.Before(now.Add(-v.window)) || at.After(now.Add(v.window)) {
		return errSigWindow
	}
	if !hmac.Equal(sig, signature(v.secret, tsHeader, path, body)) {
		return errSigMismatch
	}
	// Only genuine signatures reach the replay cache, so nobody without the
	// secret can grow it.
	v.mu.Lock()
	defer v.mu.Unlock()
	v.prune(now)
	key := string(sig)
	if _, dup := v.seen[key]; dup {
		return errSigReplayed
	}
	v.seen[key] = at.Add(v.window)
	return nil
}

// prune forgets signatures whose timestamp has left the window, at most
// every ten seconds.
func (v *webhookVerifier) prune(now time.Time) {
	if now.Sub(v.lastPrune) < 10*time.Second {
		return
	}
	v.lastPrune = now
	for k, until := range v.seen {
		if now.After(until) {
			delete(v.seen, k)
		}
	}
}

// require enforces the signature on POST calls made with the API key (the
// caller is known from credentials.read). Staff tokens are signed already;
// GETs change nothing. A nil verifier lets everything through.
func (v *webhookVerifier) require(maxBody int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if v == nil || c.Request.Method != http.MethodPost || !callerOf(c).Service {
			c.Next()
			return
		}
		v.check(c, maxBody)
	}
}

func (v *webhookVerifier) check(c *gin.Context, maxBody int64) {
	body, err := bufferBody(c, maxBody)
	if err != nil {
		abort(c, err)
		return
	}
	r := c.Request
	if err := v.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), r.URL.EscapedPath(), body); err != nil {
		abort(c, unauthorized(err.Error()))
		return
	}
	c.Next()
}
