package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordercast/ordercast/orders"
)

// The support desk's part of the store (contract 0.2), run against both
// engines: the derived wait kept with each event, the waiting list and the
// assignee.

func TestSQLiteDesk(t *testing.T) { runDesk(t, sqliteDB) }

func TestPostgresDesk(t *testing.T) { runDesk(t, postgresDB(postgresURL(t))) }

// say is a chat message from from at at, decided by the domain.
func say(from string, at time.Time) orders.Command {
	return decide(func(o orders.Order) (orders.Event, error) {
		e := o.Say(from, "Sam", "hello")
		e.At = at
		return e, nil
	})
}

func runDesk(t *testing.T, db newDB) {
	t0 := storedTime(t0) // as the wait reads back
	t1 := t0.Add(time.Minute)
	tests := []struct {
		name string
		run  func(t *testing.T, open func() storeUnderTest)
	}{
		{"the wait is kept with each event", func(t *testing.T, open func() storeUnderTest) {
			s, ctx := open(), t.Context()
			create(t, s, "a", t0)
			_, o, err := s.Append(ctx, "a", say(orders.FromCustomer, t0))
			mustAwait(t, "Append", o, err, &t0)
			_, o, err = s.Append(ctx, "a", say(orders.FromCustomer, t1))
			mustAwait(t, "second customer message", o, err, &t0)
			o, err = open().GetOrder(ctx, "a") // another process reads it
			mustAwait(t, "GetOrder on another instance", o, err, &t0)
			_, o, err = s.Append(ctx, "a", say(orders.FromSupport, t1))
			mustAwait(t, "answered", o, err, nil)
			o, err = s.GetOrder(ctx, "a")
			mustAwait(t, "GetOrder after the answer", o, err, nil)
		}},
		{"waiting list: longest first, paged", func(t *testing.T, open func() storeUnderTest) {
			s, ctx := open(), t.Context()
			for _, id := range []string{"quiet", "late", "early", "tie1", "tie2", "answered"} {
				create(t, s, id, t0)
			}
			waits := []struct {
				id string
				at time.Time
			}{{"late", t0.Add(3 * time.Second)}, {"early", t0.Add(time.Second)}, {"tie1", t0.Add(2 * time.Second)},
				{"tie2", t0.Add(2 * time.Second)}, {"answered", t0}}
			for _, w := range waits {
				if _, _, err := s.Append(ctx, w.id, say(orders.FromCustomer, w.at)); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := s.Append(ctx, "answered", say(orders.FromSupport, t1)); err != nil {
				t.Fatal(err)
			}
			want := []string{"early", "tie1", "tie2", "late"}
			all, next, err := s.ListOrders(ctx, ListQuery{Awaiting: true})
			if err != nil || next != "" || !slices.Equal(ids(all), want) {
				t.Fatalf("waiting list = %v, next %q, %v; want %v", ids(all), next, err, want)
			}
			var paged []string
			q := ListQuery{Awaiting: true, Limit: 1}
			for range 10 {
				page, next, err := s.ListOrders(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, ids(page)...)
				if next == "" {
					break
				}
				q.Before = next
			}
			if !slices.Equal(paged, want) {
				t.Fatalf("paged waiting list = %v, want %v", paged, want)
			}
			if got, _, err := s.ListOrders(ctx, ListQuery{Awaiting: true, Status: orders.Confirmed}); err != nil || len(got) != 0 {
				t.Fatalf("waiting and confirmed = %v, %v; want none", ids(got), err)
			}
			// A cursor of the other list is not one of this list.
			_, plain, _ := s.ListOrders(ctx, ListQuery{Limit: 1})
			for _, bad := range []string{plain, "nope", encodeCursor(3)} {
				if _, _, err := s.ListOrders(ctx, ListQuery{Awaiting: true, Before: bad}); !errors.Is(err, ErrBadCursor) {
					t.Errorf("cursor %q: err = %v, want ErrBadCursor", bad, err)
				}
			}
			if _, _, err := s.ListOrders(ctx, ListQuery{Before: encodeWaitCursor(t0, 1)}); !errors.Is(err, ErrBadCursor) {
				t.Errorf("a waiting-list cursor on the list: err = %v, want ErrBadCursor", err)
			}
		}},
		{"assignee", func(t *testing.T, open func() storeUnderTest) {
			s, ctx := open(), t.Context()
			create(t, s, "a", t0)
			kim := "Kim"
			o, err := s.SetAssignee(ctx, "a", &kim)
			if err != nil || o.Assignee == nil || *o.Assignee != kim || o.ID != "a" || o.LastSeq != 1 {
				t.Fatalf("SetAssignee = %+v, %v", o, err)
			}
			// An event leaves the assignee alone, and another process sees it.
			if _, o, err = s.Append(ctx, "a", say(orders.FromCustomer, t1)); err != nil || o.Assignee == nil || *o.Assignee != kim {
				t.Fatalf("after Append: %+v, %v", o.Assignee, err)
			}
			if o, err = open().GetOrder(ctx, "a"); err != nil || o.Assignee == nil || *o.Assignee != kim || !o.AwaitingReply {
				t.Fatalf("GetOrder on another instance: %+v, %v", o, err)
			}
			if o, err = s.SetAssignee(ctx, "a", nil); err != nil || o.Assignee != nil {
				t.Fatalf("release: %+v, %v", o.Assignee, err)
			}
			if _, err := s.SetAssignee(ctx, "nope", &kim); !errors.Is(err, orders.ErrNotFound) {
				t.Fatalf("unknown order: err = %v, want ErrNotFound", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, db(t))
		})
	}
}

func mustAwait(t *testing.T, what string, o orders.Order, err error, since *time.Time) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if o.AwaitingReply != (since != nil) || (since == nil) != (o.AwaitingSince == nil) ||
		(since != nil && !o.AwaitingSince.Equal(*since)) {
		t.Fatalf("%s: awaiting %v since %v, want since %v", what, o.AwaitingReply, o.AwaitingSince, since)
	}
}

// TestMigrationDerivesTheWait: orders stored before the desk columns
// existed get their wait from their events when the migration runs.
func TestMigrationDerivesTheWait(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			exec, open := oldSchema(t, engine)
			ctx := t.Context()
			pos, one, two := "", "", "" // PostgreSQL numbers pos itself
			if engine == "sqlite" {
				pos, one, two = "pos, ", "1, ", "2, "
			}
			for _, q := range []string{
				`INSERT INTO orders (id, ` + pos + `customer, items, total, currency, status, last_seq, token_hash, created_at, updated_at)
				 VALUES ('w', ` + one + `'Ada', '[]', 1, 'EUR', 'placed', 4, '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO orders (id, ` + pos + `customer, items, total, currency, status, last_seq, token_hash, created_at, updated_at)
				 VALUES ('n', ` + two + `'Bo', '[]', 1, 'EUR', 'placed', 3, '', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
				`INSERT INTO events (order_id, seq, type, from_role, at) VALUES
				 ('w', 1, 'order:message', 'customer', '2026-01-01T00:00:01.000000Z'),
				 ('w', 2, 'order:message', 'support',  '2026-01-01T00:00:02.000000Z'),
				 ('w', 3, 'order:message', 'customer', '2026-01-01T00:00:03.000000Z'),
				 ('w', 4, 'order:message', 'customer', '2026-01-01T00:00:04.000000Z'),
				 ('n', 1, 'order:message', 'customer', '2026-01-01T00:00:01.000000Z'),
				 ('n', 2, 'order:message', 'support',  '2026-01-01T00:00:02.000000Z')`,
			} {
				if err := exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			s := open()
			want := time.Date(2026, 1, 1, 0, 0, 3, 0, time.UTC)
			o, err := s.GetOrder(ctx, "w")
			mustAwait(t, "unanswered order", o, err, &want)
			o, err = s.GetOrder(ctx, "n")
			mustAwait(t, "answered order", o, err, nil)
		})
	}
}

// oldSchema makes a database at schema version 1 and returns a way to run
// SQL on it and to open the store (which migrates it).
func oldSchema(t *testing.T, engine string) (func(context.Context, string) error, func() storeUnderTest) {
	ms, err := loadMigrations(engine)
	if err != nil {
		t.Fatal(err)
	}
	v1 := ms[0].sql
	if engine == "sqlite" {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		exec := func(ctx context.Context, q string) error { _, err := db.ExecContext(ctx, q); return err }
		for _, q := range []string{v1, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
			`INSERT INTO schema_migrations VALUES (1, '')`} {
			if err := exec(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
		return exec, func() storeUnderTest {
			s, err := OpenSQLite(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	}
	u := postgresSchema(t, postgresURL(t))
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	exec := func(ctx context.Context, q string) error { _, err := conn.Exec(ctx, q); return err }
	for _, q := range []string{v1, `CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version) VALUES (1)`} {
		if err := exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	return exec, func() storeUnderTest {
		s, err := OpenPostgres(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
}
