// Package origin holds the --allowed-origins policy, which the HTTP router
// (CORS, every route) and the Socket.IO server (WebSocket upgrades) share.
package origin

import (
	"net/url"
	"strings"
)

// List is the origins that browsers on other sites may call from; "*"
// allows any. An empty list allows the same origin only.
type List []string

// Allows reports whether a listed origin matches (case-insensitively).
func (l List) Allows(origin string) bool {
	for _, o := range l {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Same reports whether origin names host, the request's own Host.
func Same(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}
