package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/store"
)

// idempotencyStore keeps Idempotency-Key records (the store).
type idempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, c store.IdemClaim) (store.IdemResult, error)
	CompleteIdempotencyKey(ctx context.Context, k store.IdemKey, claimID string, status int, body []byte) error
	ReleaseIdempotencyKey(ctx context.Context, k store.IdemKey, claimID string) error
}

// Defaults of safe retries: records are kept a day (the draft's
// suggestion, the contract's minimum); a claim holds its key for a minute,
// far beyond any request, so that only a process that died frees it.
const (
	DefaultIdempotencyTTL   = 24 * time.Hour
	DefaultIdempotencyLease = time.Minute
)

// idempotency makes the POSTs it guards safe to retry with an
// Idempotency-Key (contract 0.2): the first try claims the key in the
// store, in its own transaction, and runs; its response is kept, sealed;
// a retry gets it back with Idempotent-Replayed: true and changes nothing.
type idempotency struct {
	store   idempotencyStore
	sealer  *auth.Sealer
	service string // the API key's credential name
	maxBody int64
	ttl     time.Duration
	lease   time.Duration
	now     func() time.Time
	log     *slog.Logger
}

// guard runs before the handler of a guarded route, after its credential
// check (a refused credential keeps nothing).
func (g *idempotency) guard(c *gin.Context) {
	key, present, err := checkIdempotencyKey(c.Request.Header.Values(HeaderIdempotencyKey))
	if !present {
		c.Next()
		return
	}
	if err != nil {
		abort(c, err)
		return
	}
	body, err := bufferBody(c, g.maxBody)
	if err != nil {
		abort(c, err)
		return
	}
	claim := store.IdemClaim{
		IdemKey:     store.IdemKey{Credential: g.credential(callerOf(c)), Key: key},
		RequestHash: requestHash(c.Request.Method, c.Request.URL.EscapedPath(), body),
		ClaimID:     auth.RandomString(12),
		Now:         g.now(),
		Lease:       g.lease,
		TTL:         g.ttl,
	}
	res, err := g.store.ClaimIdempotencyKey(c.Request.Context(), claim)
	if err != nil {
		abort(c, err)
		return
	}
	switch res.Outcome {
	case store.IdemClaimed:
		g.run(c, claim)
	case store.IdemReplay:
		g.replay(c, claim.IdemKey, res)
	case store.IdemInProgress:
		abort(c, errIdemRunning)
	case store.IdemMismatch:
		abort(c, errIdemMismatch)
	default:
		abort(c, fmt.Errorf("idempotency claim: unknown outcome %d", res.Outcome))
	}
}

// credential names who sent a request: records are per credential.
func (g *idempotency) credential(c Caller) string {
	if c.Staff != nil {
		return "staff:" + c.Staff.Name
	}
	return "service:" + g.service
}

// sealContext binds a sealed response to its record.
func sealContext(k store.IdemKey) []byte { return []byte(k.Credential + "\x00" + k.Key) }

// run serves the claimed request and keeps its response; a server error
// (or a panic) releases the key instead, so that a retry runs again.
func (g *idempotency) run(c *gin.Context, claim store.IdemClaim) {
	w := &keptWriter{ResponseWriter: c.Writer}
	c.Writer = w
	finished := false
	// The client may be gone: the record is kept all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
	defer cancel()
	defer func() {
		if !finished {
			g.release(ctx, claim)
		}
	}()
	c.Next()
	finished = true
	status := w.Status()
	if status >= http.StatusInternalServerError {
		g.release(ctx, claim)
		return
	}
	sealed := g.sealer.Seal(w.body.Bytes(), sealContext(claim.IdemKey))
	if err := g.store.CompleteIdempotencyKey(ctx, claim.IdemKey, claim.ClaimID, status, sealed); err != nil {
		// The key stays claimed until its lease ends; a retry then runs
		// again and the domain refuses a duplicate (docs/choices.md).
		g.log.Warn("idempotency response not kept", "err", err)
	}
}

func (g *idempotency) release(ctx context.Context, claim store.IdemClaim) {
	if err := g.store.ReleaseIdempotencyKey(ctx, claim.IdemKey, claim.ClaimID); err != nil {
		g.log.Warn("idempotency key not released", "err", err)
	}
}

// replay answers with the kept response.
func (g *idempotency) replay(c *gin.Context, k store.IdemKey, res store.IdemResult) {
	body, err := g.sealer.Open(res.Body, sealContext(k))
	if err != nil {
		abort(c, fmt.Errorf("open kept response (was the secret changed?): %w", err))
		return
	}
	c.Header(HeaderIdempotentReplayed, "true")
	c.Data(res.Status, "application/json; charset=utf-8", body)
	c.Abort()
}

// keptWriter copies the response body as it is written.
type keptWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *keptWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *keptWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// bufferBody reads a body of at most maxBody bytes and puts it back for
// the handler: a body over the limit is too_large.
func bufferBody(c *gin.Context, maxBody int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return nil, err
		}
		return nil, badRequest("could not read the body")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
