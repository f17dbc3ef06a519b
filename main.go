// Command ordercast is a real-time order-tracking server: a gin app that
// mounts a Socket.IO server. main.go is wiring only: flags and environment
// -> app.New -> Run until SIGTERM or Ctrl-C (package app builds the parts).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/ordercast/ordercast/app"
	"github.com/ordercast/ordercast/auth"
)

const usage = `ordercast: real-time order tracking

Usage:
  ordercast [serve] [flags]     run the server (the default)
  ordercast token --role support|admin --name NAME [--ttl 12h] [flags]
                                print a staff token signed with the configured secret
  ordercast version             print the module version and VCS revision
Run "ordercast serve -h" or "ordercast token -h" for flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !(len(args[0]) > 0 && args[0][0] == '-') {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(args, stderr)
	case "token":
		err = tokenCmd(args, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version":
		fmt.Fprintln(stdout, versionString(debug.ReadBuildInfo()))
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flagHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ordercast:", err)
		return 1
	}
	return 0
}

var flagHelp = errors.New("help requested")

func tokenCmd(args []string, stdout io.Writer) error {
	c, err := parseToken(args)
	if err != nil {
		return helpOr(err)
	}
	secret, err := auth.LoadSigningSecret(c.DataDir, c.Secret)
	if err != nil {
		return err
	}
	tok, err := auth.NewSigner([]byte(secret), nil).Issue(c.Name, c.Role, c.TTL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func helpOr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flagHelp
	}
	return err
}

func serveCmd(args []string, stderr io.Writer) error {
	cfg, err := parseServe(args)
	if err != nil {
		return helpOr(err)
	}
	log := newLogger(cfg, stderr)
	tuneGC(cfg.MemoryLimit, os.LookupEnv, log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	go reclaimWhenIdle(ctx, cfg.IdleReclaim, a.Requests, log)
	return a.Run(ctx, stderr)
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	text := cfg.LogFormat == "text"
	if cfg.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				text = true
			}
		}
	}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
