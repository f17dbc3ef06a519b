// Package public embeds the pages, their static files and the
// socket.io-client browser bundle (copied in by the build from npm).
package public

import (
	"embed"
	"io/fs"
)

// Files holds *.html, static/ and assets/.
//
//go:embed *.html static assets
var Files embed.FS

// ClientBundle is where the build puts the socket.io-client bundle.
const ClientBundle = "assets/socket.io.min.js"

// HasClientBundle reports whether the build copied the bundle in; without
// it the pages load but say that live updates are off.
func HasClientBundle() bool {
	_, err := fs.Stat(Files, ClientBundle)
	return err == nil
}
