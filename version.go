package main

import (
	"fmt"
	"runtime/debug"
)

// versionString describes the build from its embedded build info. Each part
// may be missing (go run, -buildvcs=false, a build outside a checkout), so
// it falls back to "unknown" rather than failing.
func versionString(bi *debug.BuildInfo, ok bool) string {
	version, revision, modified, when, goVersion := "unknown", "unknown", "", "", "unknown"
	if ok && bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		} else if v == "(devel)" {
			version = "(devel)"
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			case "vcs.time":
				when = " " + s.Value
			}
		}
	}
	return fmt.Sprintf("ordercast %s revision %s%s%s %s", version, revision, modified, when, goVersion)
}
