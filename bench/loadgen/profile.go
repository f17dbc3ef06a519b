package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profile fetches /debug/pprof/<name> from an ordercast started with
// --pprof into the profile directory, in the background; the returned
// func waits for it. seconds > 0 makes it a CPU profile or a delta profile
// over that window. A no-op for Node or without -profile.
func (r *runner) profile(srv *serverProc, name string, seconds int, file string) func() {
	if r.profileDir == "" || srv.metricsAddr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		u := fmt.Sprintf("http://%s/debug/pprof/%s", srv.metricsAddr, name)
		if seconds > 0 {
			u += fmt.Sprintf("?seconds=%d", seconds)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+30)*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
			return
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "profile %s: %s\n", name, res.Status)
			return
		}
		f, err := os.Create(filepath.Join(r.profileDir, file))
		if err != nil {
			fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, res.Body)
	}()
	return func() { <-done }
}
