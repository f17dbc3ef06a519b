//go:build unix

package app

import (
	"os"
	"syscall"
)

// holdReleaseSignals release a held fault (holdCreated).
func holdReleaseSignals() []os.Signal { return []os.Signal{syscall.SIGUSR1} }
