package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ordercast/ordercast/orders"
)

// ClaimIdempotencyKey claims c's key, or reports what holds it, in one
// write transaction (see idempotency.go).
func (s *SQLite) ClaimIdempotencyKey(ctx context.Context, c IdemClaim) (IdemResult, error) {
	var res IdemResult
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var r idemRow
		var lease, expires string
		err := tx.QueryRowContext(ctx, `SELECT request_hash, state, lease_until, expires_at, status, body
			FROM idempotency_keys WHERE credential = ? AND key = ?`, c.Credential, c.Key).
			Scan(&r.hash, &r.state, &lease, &expires, &r.status, &r.body)
		if errors.Is(err, sql.ErrNoRows) {
			res = IdemResult{Outcome: IdemClaimed}
			_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys
				(credential, key, request_hash, state, claim_id, lease_until, expires_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Credential, c.Key, c.RequestHash, idemInProgress, c.ClaimID,
				sqliteTime(c.Now.Add(c.Lease)), sqliteTime(c.Now.Add(c.TTL)))
			return err
		}
		if err != nil {
			return err
		}
		if r.leaseUntil, err = parseSQLiteTime(lease); err != nil {
			return err
		}
		if r.expiresAt, err = parseSQLiteTime(expires); err != nil {
			return err
		}
		var takeOver bool
		if res, takeOver = decideClaim(r, c); !takeOver {
			return nil
		}
		res = IdemResult{Outcome: IdemClaimed}
		_, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET request_hash = ?, state = ?, claim_id = ?,
			lease_until = ?, expires_at = ?, status = 0, body = NULL WHERE credential = ? AND key = ?`,
			c.RequestHash, idemInProgress, c.ClaimID, sqliteTime(c.Now.Add(c.Lease)), sqliteTime(c.Now.Add(c.TTL)),
			c.Credential, c.Key)
		return err
	})
	if err != nil {
		return IdemResult{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	return res, nil
}

// CompleteIdempotencyKey keeps the response of the claim claimID.
func (s *SQLite) CompleteIdempotencyKey(ctx context.Context, k IdemKey, claimID string, status int, body []byte) error {
	res, err := s.write.ExecContext(ctx, `UPDATE idempotency_keys SET state = ?, status = ?, body = ?
		WHERE credential = ? AND key = ? AND claim_id = ? AND state = ?`,
		idemDone, status, body, k.Credential, k.Key, claimID, idemInProgress)
	return idemHeld(res, err, "complete")
}

// ReleaseIdempotencyKey forgets the claim claimID, so that a retry runs
// the request again (after a failure that is not the request's fault).
func (s *SQLite) ReleaseIdempotencyKey(ctx context.Context, k IdemKey, claimID string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys
		WHERE credential = ? AND key = ? AND claim_id = ? AND state = ?`, k.Credential, k.Key, claimID, idemInProgress)
	return idemHeld(res, err, "release")
}

func idemHeld(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s idempotency key: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s idempotency key: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s idempotency key: %w", what, ErrIdemNotHeld)
	}
	return nil
}

// PurgeIdempotencyKeys deletes at most limit records expired at now, oldest
// first, through the expiry index; it returns how many it deleted.
func (s *SQLite) PurgeIdempotencyKeys(ctx context.Context, now time.Time, limit int) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE rowid IN (
		SELECT rowid FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`, sqliteTime(now), limit)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return int(n), nil
}

// ReplaceTrackingToken stores hash as the order's tracking token hash and
// returns the token's new version; the old token stops working at once.
func (s *SQLite) ReplaceTrackingToken(ctx context.Context, id string, hash []byte) (int64, error) {
	var v int64
	err := s.write.QueryRowContext(ctx, `UPDATE orders SET token_hash = ?, token_version = token_version + 1
		WHERE id = ? RETURNING token_version`, hash, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("replace tracking token of order %s: %w", id, err)
	}
	return v, nil
}
