-- Reissuing a tracking token bumps its version, so that every process can
-- tell which subscriptions used a replaced token (rooms.Access).
ALTER TABLE orders ADD COLUMN token_version INTEGER NOT NULL DEFAULT 1;

-- Idempotency-Key records, per credential. A row is claimed (in_progress,
-- with a lease) in its own transaction before the request runs, then
-- completed with the response, sealed (body is AES-GCM, never plain text).
CREATE TABLE idempotency_keys (
    credential   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    state        TEXT NOT NULL,        -- 'in_progress' or 'done'
    claim_id     TEXT NOT NULL,
    lease_until  TEXT NOT NULL,        -- an in_progress row past it may be taken over
    expires_at   TEXT NOT NULL,        -- purged after, in batches, by this index
    status       INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    PRIMARY KEY (credential, key)
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
