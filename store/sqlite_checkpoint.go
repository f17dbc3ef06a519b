package store

import (
	"database/sql"
	"sync"
	"sync/atomic"
)

// SQLite's automatic checkpoint copies the WAL into the database file
// inside the commit that crosses its threshold: that commit, and every
// request queued behind the single writer, waited for up to 10,000 pages
// to be copied and synced (10-15 ms in BenchmarkStatusChanges). The
// checkpointer copies them on a connection of its own, with PASSIVE
// checkpoints, which block neither the writer nor the readers.
// A PASSIVE checkpoint beside a busy writer never catches up with its last
// frames, so the WAL starts over from its beginning only after the
// writer's own checkpoint. That one now comes four times less often
// (walCheckpointPages), and finds most pages copied: the WAL grows to
// about 160 MB under sustained writes, not 40. A/B, bench/RESULTS.md: the
// rooms scenario's p99 at 4,000 changes/s was lower in 7 rounds of 8
// (higher at 2,000/s in 5 of 8); with the writer at 10,000 pages and the
// checkpointer every 400 changes, nothing was gained.

const (
	// walCheckpointPages is the writer's wal_autocheckpoint.
	walCheckpointPages = 40000
	// checkpointChanges is how many committed changes the checkpointer
	// lets gather between its checkpoints: about 10,000 pages at five
	// pages per change, so that a page written many times meanwhile is
	// copied once.
	checkpointChanges = 2000
)

// checkpointer runs a PASSIVE checkpoint after every checkpointChanges
// changes committed, on its own goroutine and connection.
type checkpointer struct {
	db      *sql.DB // one connection
	every   int64
	pending atomic.Int64 // changes committed since the last kick
	kick    chan struct{}
	stop    chan struct{}
	closing sync.Once
	wg      sync.WaitGroup
	runs    atomic.Int64 // checkpoints done (the tests wait on it)
}

func startCheckpointer(db *sql.DB, every int64) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, every: every, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.loop()
	return c
}

// committed counts n changes made durable; it never blocks the writer.
// c is nil while the store migrates.
func (c *checkpointer) committed(n int) {
	if c == nil {
		return
	}
	if c.pending.Add(int64(n)) < c.every {
		return
	}
	c.pending.Store(0)
	select {
	case c.kick <- struct{}{}:
	default: // one is due already
	}
}

func (c *checkpointer) loop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// A checkpoint that fails is retried at the next kick, and the
		// writer's backstop copies the WAL if they keep failing; a file
		// that cannot be written fails the writes themselves.
		if _, err := c.db.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err == nil {
			c.runs.Add(1)
		}
	}
}

// close stops the checkpointer, after the checkpoint under way if any;
// as SQLite.Close, it may be called again.
func (c *checkpointer) close() error {
	c.closing.Do(func() { close(c.stop) })
	c.wg.Wait()
	return c.db.Close()
}
