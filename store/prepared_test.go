package store

import (
	"strings"
	"testing"
)

// TestPostgresPreparedStatements: every statement of the hot paths runs
// prepared (pgx's statement cache prepares each on first use per
// connection), not parsed and planned again on every call.
func TestPostgresPreparedStatements(t *testing.T) {
	u := postgresSchema(t, postgresURL(t)) + "&pool_max_conns=1" // one connection to look at
	p := openPostgres(t, u)
	ctx := t.Context()
	create(t, p, "a", t0)
	if _, _, err := p.Append(ctx, "a", message("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetOrder(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.OrderWithTokenHash(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.head(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Events(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.ListOrders(ctx, ListQuery{Status: "placed"}); err != nil {
		t.Fatal(err)
	}
	rows, err := p.pool.Query(ctx, `SELECT statement FROM pg_prepared_statements`)
	if err != nil {
		t.Fatal(err)
	}
	var prepared []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		prepared = append(prepared, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INSERT INTO orders", "FOR UPDATE", "INSERT INTO events", "UPDATE orders SET last_seq",
		"token_hash, token_version FROM orders WHERE id", "SELECT last_seq, updated_at, token_hash", "FROM events WHERE order_id", "ORDER BY pos DESC"} {
		found := false
		for _, s := range prepared {
			found = found || strings.Contains(s, want)
		}
		if !found {
			t.Errorf("no prepared statement contains %q; prepared: %q", want, prepared)
		}
	}
}
