package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ordercast/ordercast/orders"
)

// Postgres is the store shared by several nodes. Every statement runs
// prepared: pgx's default query mode prepares each on its first use on a
// connection and keeps it (statement cache; TestPostgresPreparedStatements).
// Behind a transaction-mode pooler, add default_query_exec_mode=exec to the
// URL.
type Postgres struct {
	pool    *pgxpool.Pool
	appends *appendGroup
}

const pgOrderCols = "id, customer, items, total, currency, status, last_seq, created_at, updated_at, assignee, awaiting_since"

const pgEventCols = "order_id, seq, type, status, note, by_name, from_role, author, text, at"

// pgMigrationLock is the advisory lock key that serialises migrations of
// processes starting together.
const pgMigrationLock = 0x6f72646572636173 // "ordercas"

// OpenPostgres connects to the database at url (a postgres:// URL or DSN) and
// applies pending migrations. Query parameters that aren't connection
// settings, such as search_path, are sent as session parameters, so
// "?search_path=myschema" puts the tables in myschema.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error may quote the URL, password included.
		return nil, errors.New("open postgres: cannot parse the database URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p := &Postgres{pool: pool}
	p.appends = newAppendGroup(p.appendBatch)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return p, nil
}

func (p *Postgres) migrate(ctx context.Context) error {
	ms, err := loadMigrations("postgres")
	if err != nil {
		return err
	}
	// PostgreSQL DDL is transactional: the lock, the table and every pending
	// migration commit together or not at all.
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgMigrationLock)); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// CreateOrder stores o with LastSeq 1 and first as its event 1, in one
// transaction. An existing id gives an error wrapping orders.ErrDuplicate.
func (p *Postgres) CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error) {
	o, first, err := newOrder(o, first, time.Now())
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	items, err := encodeItems(o.Items)
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	if tokenHash == nil {
		tokenHash = []byte{} // nil would be sent as NULL
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO orders
			(id, customer, items, total, currency, status, last_seq, token_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING`,
			o.ID, o.Customer, string(items), o.Total, o.Currency, string(o.Status), o.LastSeq, tokenHash,
			o.CreatedAt, o.UpdatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return orders.ErrDuplicate
		}
		return insertPgEvent(ctx, tx, first)
	})
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return o, first, nil
}

// GetOrder returns the order, or an error wrapping orders.ErrNotFound.
func (p *Postgres) GetOrder(ctx context.Context, id string) (orders.Order, error) {
	o, err := scanPgOrder(p.pool.QueryRow(ctx, `SELECT `+pgOrderCols+` FROM orders WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// OrderWithTokenHash returns the order and the hash of its tracking token
// in one query (a customer's subscribe needs both), or an error wrapping
// orders.ErrNotFound.
func (p *Postgres) OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error) {
	var h []byte
	var v int64
	o, err := scanPgOrder(p.pool.QueryRow(ctx, `SELECT `+pgOrderCols+`, token_hash, token_version FROM orders WHERE id = $1`, id), &h, &v)
	o.TokenVersion = v
	if errors.Is(err, pgx.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, nil, fmt.Errorf("get order %s with token hash: %w", id, err)
	}
	return o, h, nil
}

// head reads what a cached order is checked against: its last seq and
// update time, and its token's hash.
func (p *Postgres) head(ctx context.Context, id string) (orderHead, error) {
	var h orderHead
	err := p.pool.QueryRow(ctx, `SELECT last_seq, updated_at, token_hash, token_version, assignee FROM orders WHERE id = $1`, id).
		Scan(&h.lastSeq, &h.updatedAt, &h.tokenHash, &h.tokenVersion, &h.assignee)
	if errors.Is(err, pgx.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orderHead{}, fmt.Errorf("get order %s: %w", id, err)
	}
	h.updatedAt = h.updatedAt.UTC()
	return h, nil
}

// ListOrders returns a page of orders, newest first, and the cursor of the
// next page ("" after the last). Positions come from an identity column, so
// an order whose transaction commits after a page was read may be left out
// of later pages; it still heads the next first page.
func (p *Postgres) ListOrders(ctx context.Context, q ListQuery) ([]orders.Order, string, error) {
	query, args, err := listSQL(q, pgOrderCols+", pos", dialect{
		ph:   func(n int) string { return "$" + strconv.Itoa(n) },
		time: func(t time.Time) any { return t },
	})
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	rows, err := p.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	return readPage(rows, func(pos *int64) (orders.Order, error) { return scanPgOrder(rows, pos) }, q.limit(), q.Awaiting)
}

// SetAssignee stores who handles the order (nil: nobody) and returns it.
func (p *Postgres) SetAssignee(ctx context.Context, orderID string, assignee *string) (orders.Order, error) {
	o, err := scanPgOrder(p.pool.QueryRow(ctx,
		`UPDATE orders SET assignee = $2 WHERE id = $1 RETURNING `+pgOrderCols, orderID, assignee))
	if errors.Is(err, pgx.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("assign order %s: %w", orderID, err)
	}
	return o, nil
}

// Events returns the order's events with seq > since, oldest first.
func (p *Postgres) Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error) {
	rows, err := p.pool.Query(ctx,
		`SELECT `+pgEventCols+` FROM events WHERE order_id = $1 AND seq > $2 ORDER BY seq`, orderID, since)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", orderID, err)
	}
	defer rows.Close()
	evs := []orders.Event{}
	for rows.Next() {
		var e orders.Event
		var status string
		if err := rows.Scan(&e.OrderID, &e.Seq, &e.Type, &status, &e.Note, &e.By, &e.From, &e.Author, &e.Text, &e.At); err != nil {
			return nil, fmt.Errorf("events of order %s: %w", orderID, err)
		}
		e.Status, e.At = orders.Status(status), e.At.UTC()
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of order %s: %w", orderID, err)
	}
	return evs, nil
}

// EventsSince is Events: known serves a Cache in front.
func (p *Postgres) EventsSince(ctx context.Context, orderID string, since, _ int64) ([]orders.Event, error) {
	return p.Events(ctx, orderID, since)
}

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be released.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

func insertPgEvent(ctx context.Context, tx pgx.Tx, e orders.Event) error {
	_, err := tx.Exec(ctx, `INSERT INTO events (`+pgEventCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.OrderID, e.Seq, e.Type, string(e.Status), e.Note, e.By, e.From, e.Author, e.Text, e.At)
	if err != nil {
		return fmt.Errorf("insert event %d: %w", e.Seq, err)
	}
	return nil
}

// scanPgOrder scans pgOrderCols followed by extra.
func scanPgOrder(r pgx.Row, extra ...any) (orders.Order, error) {
	var o orders.Order
	var items []byte
	var status string
	var awaiting *time.Time
	dest := append([]any{&o.ID, &o.Customer, &items, &o.Total, &o.Currency, &status, &o.LastSeq, &o.CreatedAt, &o.UpdatedAt,
		&o.Assignee, &awaiting}, extra...)
	if err := r.Scan(dest...); err != nil {
		return orders.Order{}, err
	}
	if awaiting != nil {
		t := awaiting.UTC()
		awaiting = &t
	}
	o.SetAwaitingSince(awaiting)
	var err error
	if o.Items, err = decodeItems(items); err != nil {
		return orders.Order{}, err
	}
	o.Status = orders.Status(status)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}
