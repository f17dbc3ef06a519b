//go:build unix

package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSQLiteSettings: the writer's page cache and checkpoint interval, and
// the process-wide lock of a file the process holds: its WAL index lives
// in memory, so no -shm file appears; a file left open to other processes
// keeps the shared one.
func TestSQLiteSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lock    bool
		wantShm bool
	}{
		{"held by this process", true, false},
		{"open to others", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ordercast.db")
			s := sqliteFor(t, path, tc.lock)
			create(t, s, "o1", time.Now())
			if _, _, err := s.Append(t.Context(), "o1", message("hello")); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path + "-wal"); err != nil {
				t.Fatalf("no WAL: %v", err)
			}
			_, err := os.Stat(path + "-shm")
			if gotShm := err == nil; gotShm != tc.wantShm {
				t.Errorf("-shm file exists: %v, want %v", gotShm, tc.wantShm)
			}
			for pragma, want := range map[string]int{"cache_size": -65536, "wal_autocheckpoint": walCheckpointPages} {
				var got int
				if err := s.write.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("writer's %s = %d, want %d", pragma, got, want)
				}
			}
		})
	}
}
