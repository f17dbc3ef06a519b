package app

import (
	"context"
	"errors"
	"time"
)

// Shutdown stops the app gracefully; it is safe to call more than once
// (later calls wait for nothing and return the first call's result).
//
//  1. Drain: /readyz answers 503 for --shutdown-delay while everything
//     else is served, so a load balancer stops sending new clients first.
//  2. The listener closes; new Socket.IO handshakes are refused; SSE
//     streams end with a retry hint; Socket.IO clients are disconnected at
//     the transport level (the stock client reconnects on its own, to the
//     restarted process or another one) and pending long-polls answered;
//     other processes are told this one leaves.
//  3. In-flight requests finish (until ctx ends), the metrics listener
//     closes, then Redis and the store.
func (a *App) Shutdown(ctx context.Context) error {
	a.shutdownOnce.Do(func() { a.shutdownErr = a.shutdown(ctx) })
	return a.shutdownErr
}

func (a *App) shutdown(ctx context.Context) error {
	a.log.Info("shutting down", "drain", a.cfg.ShutdownDelay)
	close(a.draining)
	if d := a.cfg.ShutdownDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	close(a.stopping)
	if a.stopStats != nil {
		a.stopStats()
	}
	shutdown := make(chan error, 1)
	go func() { shutdown <- a.srv.Shutdown(ctx) }() // stops accepting first
	if !a.served.Load() {
		_ = a.ln.Close() // Shutdown closes only the listeners it serves
	}
	if a.node != nil {
		a.node.Stopping()
	}
	a.sio.Close()
	var errs []error
	if err := <-shutdown; err != nil {
		a.log.Warn("shutdown incomplete", "err", err)
		_ = a.srv.Close()
		errs = append(errs, err)
	}
	// Metrics stay scrapable while the main listener drains.
	if a.metrics != nil {
		if err := a.metrics.Shutdown(ctx); err != nil {
			_ = a.metrics.Close()
		}
		if !a.served.Load() {
			_ = a.mln.Close()
		}
	}
	a.closeParts()
	a.log.Info("stopped")
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// closeParts closes Redis and the store.
func (a *App) closeParts() {
	if a.node != nil {
		_ = a.node.Close()
	}
	if err := a.store.Close(); err != nil {
		a.log.Warn("closing the store", "err", err)
	}
}
