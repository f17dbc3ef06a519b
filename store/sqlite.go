package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ordercast/ordercast/orders"
)

// SQLite is the single-node store: one database file in WAL mode.
type SQLite struct {
	// SQLite has a single writer. Writes share a pool of one connection, so
	// goroutines queue in database/sql rather than fail with SQLITE_BUSY; its
	// transactions begin IMMEDIATE, so a tool that writes the file meanwhile
	// (the process itself is alone: lock) waits on busy_timeout at BEGIN
	// instead of failing later when a read lock can't be upgraded.
	write *sql.DB
	// WAL readers neither block nor wait for the writer.
	read *sql.DB
	// The hot statements are prepared once, each on the pool that runs it:
	// modernc parses SQL on every unprepared call, which was ~20% of an
	// Append and ~26% of a subscribe (bench/RESULTS.md).
	stmts   sqliteStmts
	appends *appendGroup
	raw     rawTx         // the append transaction's statements (sqlite_rawtx.go)
	ckpt    *checkpointer // sqlite_checkpoint.go
	// lock is held while the store is open: one process at a time writes
	// the file, so a Cache in front of it sees every change (soleWriter).
	lock *os.File
}

// OpenSQLite opens (creating it and its directory if needed) the database
// file at path and applies pending migrations. The file is this process's
// until Close: another process that opens it gets ErrInUse.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	return openSQLite(ctx, path, true)
}

// openSQLite with lock false leaves the file open to other processes (as
// where flock is missing); the tests use it for several instances on one
// file.
func openSQLite(ctx context.Context, path string, lock bool) (*SQLite, error) {
	if path == "" || path == ":memory:" {
		// Two pools on an in-memory name would be two separate databases.
		return nil, fmt.Errorf("open sqlite %q: need a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	var held *os.File
	if lock {
		if held, err = lockFile(abs + ".lock"); err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	s, err := openSQLiteFile(ctx, abs, held != nil)
	if err != nil {
		if held != nil {
			_ = held.Close()
		}
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s.lock = held
	return s, nil
}

// openSQLiteFile opens the pools; alone: this process holds the file's
// lock (lockFile).
func openSQLiteFile(ctx context.Context, abs string, alone bool) (*SQLite, error) {
	// A file: URI, escaped, so that '?' or '#' in the path can't be taken for
	// the query that carries the pragmas.
	uri := "file:" + (&url.URL{Path: abs}).EscapedPath()
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if alone {
		// No other process opens the file, so SQLite need not lock it for
		// each transaction: unix-excl locks it once for the process and
		// keeps the WAL index in memory instead of the -shm file. That
		// saves six fcntl(2) calls per transaction (bench/RESULTS.md).
		common += "&vfs=unix-excl"
	}

	// The writer's page cache is 64 MiB at most, not 2: with many orders,
	// most appends read a page back otherwise. Checkpoints: see
	// sqlite_checkpoint.go.
	writer := "&_pragma=journal_mode(WAL)&_txlock=immediate&_pragma=cache_size(-65536)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walCheckpointPages)
	write, err := sql.Open("sqlite", uri+"?"+common+writer)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	s := &SQLite{write: write}
	s.appends = newAppendGroup(s.appendBatch)
	// Migrate before the readers connect, so the file is in WAL mode first.
	if err := s.migrate(ctx); err != nil {
		_ = write.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", uri+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	if err := read.PingContext(ctx); err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, err
	}
	s.read = read
	if err := s.stmts.prepare(ctx, write, read); err != nil {
		_ = read.Close()
		_ = write.Close()
		return nil, err
	}
	ckpt, err := sql.Open("sqlite", uri+"?"+common)
	if err != nil {
		_ = s.stmts.close()
		_ = read.Close()
		_ = write.Close()
		return nil, err
	}
	s.ckpt = startCheckpointer(ckpt, checkpointChanges)
	return s, nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	ms, err := loadMigrations("sqlite")
	if err != nil {
		return err
	}
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at TEXT NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, sqliteTime(time.Now())); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// inWriteTx runs fn in a write transaction and commits unless fn fails.
func (s *SQLite) inWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.ckpt.committed(1)
	return nil
}

// CreateOrder stores o with LastSeq 1 and first as its event 1, in one
// transaction. An existing id gives an error wrapping orders.ErrDuplicate.
func (s *SQLite) CreateOrder(ctx context.Context, o orders.Order, tokenHash []byte, first orders.Event) (orders.Order, orders.Event, error) {
	o, first, err := newOrder(o, first, time.Now())
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	items, err := encodeItems(o.Items)
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	if tokenHash == nil {
		tokenHash = []byte{} // nil would bind as NULL
	}
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.stmts.createOrder).ExecContext(ctx,
			o.ID, o.Customer, string(items), o.Total, o.Currency, string(o.Status), o.LastSeq, tokenHash,
			sqliteTime(o.CreatedAt), sqliteTime(o.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return orders.ErrDuplicate
		}
		return s.insertEvent(ctx, tx, first)
	})
	if err != nil {
		return orders.Order{}, orders.Event{}, fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return o, first, nil
}

// GetOrder returns the order, or an error wrapping orders.ErrNotFound.
func (s *SQLite) GetOrder(ctx context.Context, id string) (orders.Order, error) {
	o, err := scanSQLiteOrder(s.stmts.getOrder.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
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
func (s *SQLite) OrderWithTokenHash(ctx context.Context, id string) (orders.Order, []byte, error) {
	var h []byte
	var v int64
	o, err := scanSQLiteOrder(s.stmts.orderHash.QueryRowContext(ctx, id), &h, &v)
	o.TokenVersion = v
	if errors.Is(err, sql.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, nil, fmt.Errorf("get order %s with token hash: %w", id, err)
	}
	return o, h, nil
}

// head reads what a cached order is checked against: its last seq and
// update time, and its token's hash.
func (s *SQLite) head(ctx context.Context, id string) (orderHead, error) {
	var h orderHead
	var updated string
	err := s.stmts.head.QueryRowContext(ctx, id).Scan(&h.lastSeq, &updated, &h.tokenHash, &h.tokenVersion, &h.assignee)
	if errors.Is(err, sql.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err == nil {
		h.updatedAt, err = parseSQLiteTime(updated)
	}
	if err != nil {
		return orderHead{}, fmt.Errorf("get order %s: %w", id, err)
	}
	return h, nil
}

// ListOrders returns a page of orders, newest first, and the cursor of the
// next page ("" after the last).
func (s *SQLite) ListOrders(ctx context.Context, q ListQuery) ([]orders.Order, string, error) {
	query, args, err := listSQL(q, sqliteOrderCols+", pos", dialect{
		ph:   func(int) string { return "?" },
		time: func(t time.Time) any { return sqliteTime(t) },
	})
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	stmt, err := s.stmts.list(ctx, s.read, query)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	return readPage(rows, func(pos *int64) (orders.Order, error) { return scanSQLiteOrder(rows, pos) }, q.limit(), q.Awaiting)
}

// SetAssignee stores who handles the order (nil: nobody) and returns it.
func (s *SQLite) SetAssignee(ctx context.Context, orderID string, assignee *string) (orders.Order, error) {
	var o orders.Order
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = scanSQLiteOrder(tx.QueryRowContext(ctx,
			`UPDATE orders SET assignee = ? WHERE id = ? RETURNING `+sqliteOrderCols, assignee, orderID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = orders.ErrNotFound
	}
	if err != nil {
		return orders.Order{}, fmt.Errorf("assign order %s: %w", orderID, err)
	}
	return o, nil
}

// Events returns the order's events with seq > since, oldest first.
func (s *SQLite) Events(ctx context.Context, orderID string, since int64) ([]orders.Event, error) {
	rows, err := s.stmts.events.QueryContext(ctx, orderID, since)
	if err != nil {
		return nil, fmt.Errorf("events of order %s: %w", orderID, err)
	}
	defer rows.Close()
	evs := []orders.Event{}
	for rows.Next() {
		var e orders.Event
		var at string
		if err := rows.Scan(&e.OrderID, &e.Seq, &e.Type, &e.Status, &e.Note, &e.By, &e.From, &e.Author, &e.Text, &at); err != nil {
			return nil, fmt.Errorf("events of order %s: %w", orderID, err)
		}
		if e.At, err = parseSQLiteTime(at); err != nil {
			return nil, fmt.Errorf("events of order %s: %w", orderID, err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of order %s: %w", orderID, err)
	}
	return evs, nil
}

// EventsSince is Events: known serves a Cache in front.
func (s *SQLite) EventsSince(ctx context.Context, orderID string, since, _ int64) ([]orders.Event, error) {
	return s.Events(ctx, orderID, since)
}

// Ping checks that the database can be read.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close stops the checkpointer and closes the prepared statements and
// the connection pools.
func (s *SQLite) Close() error {
	err := errors.Join(s.ckpt.close(), s.closeRaw(), s.stmts.close(), s.read.Close(), s.write.Close())
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close()) // last: the file is closed first
	}
	return err
}

// soleWriter: no other process writes the file while this store is open.
func (s *SQLite) soleWriter() bool { return s.lock != nil }

func (s *SQLite) insertEvent(ctx context.Context, tx *sql.Tx, e orders.Event) error {
	_, err := tx.StmtContext(ctx, s.stmts.insertEvent).ExecContext(ctx, sqliteEventArgs(e)...)
	if err != nil {
		return fmt.Errorf("insert event %d: %w", e.Seq, err)
	}
	return nil
}
