package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/auth"
)

// credentials verify the Bearer credential of a request, once: the API key
// or a staff token.
type credentials struct {
	apiKey auth.APIKey
	signer *auth.Signer
}

const (
	callerKey    = "ordercast.caller"
	callerErrKey = "ordercast.caller-error"
)

// read runs on every request and verifies its Bearer credential, if any,
// once: later middleware (the per-address limit, the API's checks) look at
// the result. A bad credential is refused only where one is needed
// (requireValid); an absent one leaves the caller anonymous (customers
// present their order token per request).
func (cr credentials) read(c *gin.Context) {
	var caller Caller
	if tok, ok := bearer(c.Request); ok {
		switch {
		case cr.apiKey.Match(tok):
			caller.Service = true
		default:
			staff, err := cr.signer.Verify(tok)
			if err != nil {
				c.Set(callerErrKey, err)
				break
			}
			caller.Staff = &staff
		}
	}
	c.Set(callerKey, caller)
}

// requireValid refuses a request whose Bearer credential is present but bad.
func requireValid(c *gin.Context) {
	if err, ok := c.Get(callerErrKey); ok {
		abort(c, err.(error))
	}
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if v == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true // present but unusable: refused as invalid
	}
	return strings.TrimSpace(tok), true
}

func callerOf(c *gin.Context) Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(Caller)
	return caller
}

// requireTrusted admits the shop backend and staff only.
func requireTrusted(c *gin.Context) {
	if !callerOf(c).Trusted() {
		abort(c, unauthorized("API key or staff token required"))
	}
}

// requireService admits the shop backend only.
func requireService(c *gin.Context) {
	caller := callerOf(c)
	switch {
	case caller.Service:
	case caller.Staff != nil:
		abort(c, forbidden("only the shop backend's API key may create orders"))
	default:
		abort(c, unauthorized("API key required"))
	}
}
