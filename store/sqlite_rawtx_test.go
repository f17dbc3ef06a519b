package store

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"
)

// TestSQLiteAppendPreparesNothing: once warm, an append compiles no SQL
// on the write connection, neither its statements nor BEGIN and COMMIT
// (which database/sql's transactions make modernc compile every time).
// SQLite calls the authorizer for each statement it compiles.
func TestSQLiteAppendPreparesNothing(t *testing.T) {
	s := mustSQLite(t, filepath.Join(t.TempDir(), "o.db"))
	create(t, s, "o1", t0)
	var compiled atomic.Int64
	authorize(t, s, func(action sqlite.AuthorizerActionCode, _, _, _, _ string) sqlite.AuthorizerReturnCode {
		compiled.Add(1)
		return sqlite.AuthorizerOK
	})
	// Installing an authorizer expires every statement; the first append
	// prepares them again.
	_, hint, err := s.Append(t.Context(), "o1", message("warm"))
	if err != nil {
		t.Fatal(err)
	}
	compiled.Store(0)
	for range 3 {
		if _, hint, err = s.appendAt(t.Context(), "o1", message("on the hint"), hint); err != nil {
			t.Fatal(err)
		}
		if _, hint, err = s.Append(t.Context(), "o1", message("on the row")); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.group().atHint.Load(); got < 3 {
		t.Fatalf("%d appends written on their hint, want 3: the test no longer covers that path", got)
	}
	if n := compiled.Load(); n != 0 {
		t.Fatalf("6 appends compiled SQL %d times, want 0", n)
	}
}

// authorize installs fn as the write connection's authorizer until the
// test ends.
func authorize(t *testing.T, s *SQLite, fn sqlite.AuthorizerFn) {
	t.Helper()
	set := func(fn sqlite.AuthorizerFn) error {
		conn, err := s.write.Conn(context.Background())
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error { return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(fn) })
	}
	if err := set(fn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = set(nil) })
}
