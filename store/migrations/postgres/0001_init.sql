CREATE TABLE orders (
    id         TEXT PRIMARY KEY,
    pos        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, -- creation order, for listing and cursors
    customer   TEXT NOT NULL,
    items      JSONB NOT NULL, -- array of {name, qty}
    total      BIGINT NOT NULL,
    currency   TEXT NOT NULL,
    status     TEXT NOT NULL,
    last_seq   BIGINT NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX orders_status_pos ON orders (status, pos);

CREATE TABLE events (
    order_id  TEXT NOT NULL REFERENCES orders (id),
    seq       BIGINT NOT NULL,
    type      TEXT NOT NULL,
    status    TEXT NOT NULL DEFAULT '',
    note      TEXT NOT NULL DEFAULT '',
    by_name   TEXT NOT NULL DEFAULT '',
    from_role TEXT NOT NULL DEFAULT '',
    author    TEXT NOT NULL DEFAULT '',
    text      TEXT NOT NULL DEFAULT '',
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, seq)
);
