package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordercast/ordercast/orders"
)

// ClaimIdempotencyKey claims c's key, or reports what holds it, in one
// transaction (see idempotency.go). The insert comes first, so that two
// processes claiming at once serialise on the key's row.
func (p *Postgres) ClaimIdempotencyKey(ctx context.Context, c IdemClaim) (IdemResult, error) {
	var res IdemResult
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		// A record found by the insert may be purged (it expired) before
		// it is read: then the insert is tried again.
		for range 3 {
			tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys
				(credential, key, request_hash, state, claim_id, lease_until, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (credential, key) DO NOTHING`,
				c.Credential, c.Key, c.RequestHash, idemInProgress, c.ClaimID, c.Now.Add(c.Lease), c.Now.Add(c.TTL))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				res = IdemResult{Outcome: IdemClaimed}
				return nil
			}
			var r idemRow
			err = tx.QueryRow(ctx, `SELECT request_hash, state, lease_until, expires_at, status, body
				FROM idempotency_keys WHERE credential = $1 AND key = $2 FOR UPDATE`, c.Credential, c.Key).
				Scan(&r.hash, &r.state, &r.leaseUntil, &r.expiresAt, &r.status, &r.body)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			var takeOver bool
			if res, takeOver = decideClaim(r, c); !takeOver {
				return nil
			}
			res = IdemResult{Outcome: IdemClaimed}
			_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET request_hash = $3, state = $4, claim_id = $5,
				lease_until = $6, expires_at = $7, status = 0, body = NULL WHERE credential = $1 AND key = $2`,
				c.Credential, c.Key, c.RequestHash, idemInProgress, c.ClaimID, c.Now.Add(c.Lease), c.Now.Add(c.TTL))
			return err
		}
		return errors.New("record kept vanishing")
	})
	if err != nil {
		return IdemResult{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return res, nil
}

// CompleteIdempotencyKey keeps the response of the claim claimID.
func (p *Postgres) CompleteIdempotencyKey(ctx context.Context, k IdemKey, claimID string, status int, body []byte) error {
	tag, err := p.pool.Exec(ctx, `UPDATE idempotency_keys SET state = $1, status = $2, body = $3
		WHERE credential = $4 AND key = $5 AND claim_id = $6 AND state = $7`,
		idemDone, status, body, k.Credential, k.Key, claimID, idemInProgress)
	return pgIdemHeld(tag, err, "complete")
}

// ReleaseIdempotencyKey forgets the claim claimID, so that a retry runs
// the request again (after a failure that is not the request's fault).
func (p *Postgres) ReleaseIdempotencyKey(ctx context.Context, k IdemKey, claimID string) error {
	tag, err := p.pool.Exec(ctx, `DELETE FROM idempotency_keys
		WHERE credential = $1 AND key = $2 AND claim_id = $3 AND state = $4`, k.Credential, k.Key, claimID, idemInProgress)
	return pgIdemHeld(tag, err, "release")
}

func pgIdemHeld(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s idempotency key: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s idempotency key: %w", what, ErrIdemNotHeld)
	}
	return nil
}

// PurgeIdempotencyKeys deletes at most limit records expired at now, oldest
// first, through the expiry index; it returns how many it deleted.
func (p *Postgres) PurgeIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid IN (
		SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
		FOR UPDATE SKIP LOCKED)`, now, limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ReplaceTrackingToken stores hash as the order's tracking token hash and
// returns the token's new version; the old token stops working at once.
func (p *Postgres) ReplaceTrackingToken(ctx context.Context, id string, hash []byte) (int64, error) {
	var v int64
	err := p.pool.QueryRow(ctx, `UPDATE orders SET token_hash = $2, token_version = token_version + 1
		WHERE id = $1 RETURNING token_version`, id, hash).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("replace tracking token of order %s: %w", id, err)
	}
	return v, nil
}
