package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/store"
)

// Error codes of the contract.
const (
	CodeBadRequest        = "bad_request"
	CodeUnauthorized      = "unauthorized"
	CodeForbidden         = "forbidden"
	CodeNotFound          = "not_found"
	CodeInvalidTransition = "invalid_transition"
	CodeDuplicate         = "duplicate"
	// Safe retries (contract 0.2): a retry while the first try runs; a key
	// reused for another request.
	CodeIdempotencyInProgress = "idempotency_in_progress"
	CodeIdempotencyMismatch   = "idempotency_mismatch"
	CodeTooLarge              = "too_large"
	CodeRateLimited           = "rate_limited"
	CodeInternal              = "internal"
	CodeUnavailable           = "unavailable"
)

// Error is an error a client may see: an HTTP status, a code of the
// contract and a message safe to show.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(msg string) *Error { return &Error{http.StatusBadRequest, CodeBadRequest, msg} }
func forbidden(msg string) *Error  { return &Error{http.StatusForbidden, CodeForbidden, msg} }
func unauthorized(msg string) *Error {
	return &Error{http.StatusUnauthorized, CodeUnauthorized, msg}
}

var (
	errTooLarge    = &Error{http.StatusRequestEntityTooLarge, CodeTooLarge, "body exceeds the size limit"}
	errRateLimited = &Error{http.StatusTooManyRequests, CodeRateLimited, "too many requests, slow down"}
	errInternal    = &Error{http.StatusInternalServerError, CodeInternal, "internal error"}
	errIdemRunning = &Error{http.StatusConflict, CodeIdempotencyInProgress,
		"a request with this Idempotency-Key is in progress; retry later"}
	errIdemMismatch = &Error{http.StatusUnprocessableEntity, CodeIdempotencyMismatch,
		"this Idempotency-Key was used for another request (method, path or body)"}
)

// toError is the one place that turns domain errors into what a client sees
// over HTTP and in acks. Unknown errors become internal (and are logged by
// the caller); nothing about them reaches the client.
func toError(err error) *Error {
	var e *Error
	var inv *orders.InvalidError
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &inv):
		return badRequest(inv.Error())
	case errors.As(err, &maxBytes):
		return errTooLarge
	case errors.Is(err, orders.ErrNotFound):
		return &Error{http.StatusNotFound, CodeNotFound, "no such order"}
	case errors.Is(err, orders.ErrDuplicate):
		return &Error{http.StatusConflict, CodeDuplicate, "an order with this id exists"}
	case errors.Is(err, orders.ErrInvalidTransition):
		return &Error{http.StatusConflict, CodeInvalidTransition, err.Error()}
	case errors.Is(err, store.ErrBadCursor):
		return badRequest("before: not a cursor returned by this API")
	case errors.Is(err, auth.ErrMissing), errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrExpired):
		return unauthorized(authMessage(err))
	}
	return errInternal
}

func authMessage(err error) string {
	switch {
	case errors.Is(err, auth.ErrExpired):
		return "staff token expired"
	case errors.Is(err, auth.ErrMissing):
		return "credential required"
	}
	return "invalid credential"
}

// abort answers c with err as the contract's JSON error. An internal error
// is attached to the request, and requestLog logs it; the client learns
// nothing about it.
func abort(c *gin.Context, err error) {
	e := toError(err)
	if e == errInternal {
		_ = c.Error(err)
	}
	c.AbortWithStatusJSON(e.Status, gin.H{"error": e})
}

// ackError is the ack payload for err; an internal error is logged.
func ackError(log *slog.Logger, event string, err error) map[string]any {
	e := toError(err)
	if e == errInternal {
		log.Error("socket event failed", "event", event, "err", err)
	}
	return map[string]any{"ok": false, "error": e}
}
