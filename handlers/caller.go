package handlers

import "github.com/ordercast/ordercast/auth"

// Caller is who is acting: the shop backend, a staff member, or a customer
// holding one order's tracking token.
type Caller struct {
	Service bool
	Staff   *auth.Staff
	// CustomerOf is the order whose tracking token was presented.
	CustomerOf string
}

// Trusted reports whether the caller may act on any order.
func (c Caller) Trusted() bool { return c.Service || c.Staff != nil }

// Name is how a status change records its author.
func (c Caller) Name() string {
	if c.Staff != nil {
		return c.Staff.Name
	}
	return "service"
}
