-- Times are UTC text with fixed-width microseconds, so they sort as strings
-- and match the precision PostgreSQL keeps.
CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    pos        INTEGER NOT NULL UNIQUE, -- creation order, for listing and cursors
    customer   TEXT NOT NULL,
    items      TEXT NOT NULL,           -- JSON array of {name, qty}
    total      INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    status     TEXT NOT NULL,
    last_seq   INTEGER NOT NULL,
    token_hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX orders_status_pos ON orders (status, pos);

CREATE TABLE events (
    order_id  TEXT NOT NULL REFERENCES orders (id),
    seq       INTEGER NOT NULL,
    type      TEXT NOT NULL,
    status    TEXT NOT NULL DEFAULT '',
    note      TEXT NOT NULL DEFAULT '',
    by_name   TEXT NOT NULL DEFAULT '',
    from_role TEXT NOT NULL DEFAULT '',
    author    TEXT NOT NULL DEFAULT '',
    text      TEXT NOT NULL DEFAULT '',
    at        TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
) WITHOUT ROWID;
