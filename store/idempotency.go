package store

import (
	"bytes"
	"errors"
	"time"
)

// Idempotency-Key records (the IETF httpapi draft): the first request with a
// key claims it, in its own transaction, before it runs; its response is
// kept with the key when it is done. A claim is a lease, so a process that
// dies mid-request does not wedge the key: once the lease is over another
// try takes the key over. Expired records are treated as absent, so the
// request path never waits for the purge (PurgeIdempotencyKeys).

// IdemKey names a record: a key is only ever looked up within the
// credential that sent it.
type IdemKey struct {
	Credential string
	Key        string
}

// IdemClaim is one try at claiming a key.
type IdemClaim struct {
	IdemKey
	// RequestHash identifies the request (method, path, body); the same key
	// with another hash is a mismatch.
	RequestHash []byte
	// ClaimID is this try's own id: only it may complete or release the
	// record while it holds the lease.
	ClaimID string
	Now     time.Time
	Lease   time.Duration // how long the claim holds the key while in progress
	TTL     time.Duration // how long the record is kept from Now
}

// IdemOutcome is what a claim found.
type IdemOutcome int

// Outcomes of ClaimIdempotencyKey.
const (
	// IdemClaimed: the caller runs the request, then completes or releases.
	IdemClaimed IdemOutcome = iota + 1
	// IdemReplay: the request ran; Status and Body are its kept response.
	IdemReplay
	// IdemInProgress: another try holds the key's lease.
	IdemInProgress
	// IdemMismatch: the key was used for another request.
	IdemMismatch
)

// IdemResult is the outcome of a claim, with the kept response of a replay.
type IdemResult struct {
	Outcome IdemOutcome
	Status  int
	Body    []byte
}

// ErrIdemNotHeld is wrapped when a try completes or releases a record it no
// longer holds (its lease ran out and another try took the key over).
var ErrIdemNotHeld = errors.New("idempotency key not held by this claim")

const (
	idemInProgress = "in_progress"
	idemDone       = "done"
)

// idemRow is a stored record, as a claim sees it.
type idemRow struct {
	hash       []byte
	state      string
	leaseUntil time.Time
	expiresAt  time.Time
	status     int
	body       []byte
}

// decideClaim is the one rule both engines apply to an existing record:
// what the claim c finds, or takeOver when c may claim the row for itself.
func decideClaim(r idemRow, c IdemClaim) (res IdemResult, takeOver bool) {
	switch {
	case !r.expiresAt.After(c.Now):
		return IdemResult{}, true // expired, not purged yet: as if absent
	case !bytes.Equal(r.hash, c.RequestHash):
		return IdemResult{Outcome: IdemMismatch}, false
	case r.state == idemDone:
		return IdemResult{Outcome: IdemReplay, Status: r.status, Body: r.body}, false
	case r.leaseUntil.After(c.Now):
		return IdemResult{Outcome: IdemInProgress}, false
	}
	return IdemResult{}, true // the holder died or overran its lease
}

// DefaultPurgeBatch bounds one purge statement, so that a purge never holds
// the write lock for long.
const DefaultPurgeBatch = 500
