package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The checkpointer copies committed pages into the database file before
// the writer's own checkpoint would: 600 changes stay well below
// walCheckpointPages, so without the checkpointer the file has none of
// them yet.
func TestCheckpointerCopiesBeforeTheWriter(t *testing.T) {
	with := fileAfterChanges(t, 50)
	without := fileAfterChanges(t, 1<<40)
	if with <= without {
		t.Errorf("database file of %d bytes with the checkpointer, %d without: want it larger", with, without)
	}
}

// fileAfterChanges makes 600 changes, the checkpointer kicked after every
// `every`, and returns the size of the database file (not its WAL).
func fileAfterChanges(t *testing.T, every int64) int64 {
	t.Helper()
	const changes, nOrders = 600, 20
	path := filepath.Join(t.TempDir(), "ordercast.db")
	s := mustSQLite(t, path)
	s.ckpt.every = every // before the first write
	for i := range nOrders {
		create(t, s, fmt.Sprintf("o%d", i), time.Now())
	}
	for i := range changes {
		if _, _, err := s.Append(t.Context(), fmt.Sprintf("o%d", i%nOrders), message("hello")); err != nil {
			t.Fatal(err)
		}
	}
	if every <= changes {
		last := s.ckpt.runs.Load()
		s.ckpt.committed(int(every)) // one more, after the last change
		waitFor(t, "the last checkpoint", func() bool { return s.ckpt.runs.Load() > last })
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
