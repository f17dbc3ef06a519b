//go:build !unix

package app

import "os"

// holdReleaseSignals: without SIGUSR1 a held fault ends at its timeout.
func holdReleaseSignals() []os.Signal { return nil }
