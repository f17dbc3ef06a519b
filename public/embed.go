// Package public embeds the pages, their static files and the
// socket.io-client browser bundle (copied in by the build from npm).
package public

import "embed"

// Files holds *.html, static/ and assets/.
//
//go:embed *.html static assets
var Files embed.FS
