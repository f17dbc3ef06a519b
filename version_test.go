package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ordercast/ordercast", Version: "v0.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"}}}
	if got, want := versionString(bi, true), "ordercast v0.2.0 revision abc123 (modified) 2026-12-03T10:00:00Z go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// -buildvcs=false and go run leave no VCS settings.
	if got, want := versionString(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true), "ordercast (devel) revision unknown go1.26.8"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := versionString(nil, false), "ordercast unknown revision unknown unknown"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestVersionCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "ordercast ") || !strings.Contains(out.String(), "revision ") {
		t.Fatalf("version printed %q", out.String())
	}
}
