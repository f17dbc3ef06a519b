package rooms

import "sync"

// Member is something on this process that follows an order with its
// tracking token: a customer's socket subscription, or an SSE stream.
type Member interface {
	// SocketID is the socket's id; "" for an SSE stream.
	SocketID() string
	// Revoked tells the member its token was replaced: it forgets its
	// access to the order (a stream ends).
	Revoked(orderID string)
}

// Access knows, per order, which members of this process follow it with
// which token version, and the newest version it has heard of. Revoking a
// version finds the members that used an older one without a look at
// every socket.
type Access struct {
	mu      sync.Mutex
	members map[string]map[Member]int64
	// current is the newest token version heard of per order (only orders
	// whose token was replaced while this process ran).
	current map[string]int64
}

// NewAccess returns an empty registry.
func NewAccess() *Access {
	return &Access{members: map[string]map[Member]int64{}, current: map[string]int64{}}
}

// Admit registers m as following orderID with token version, unless a newer
// version was heard of already: a token replaced while its subscribe or
// stream was starting is refused here, after the room was joined.
func (a *Access) Admit(orderID string, m Member, version int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if version < a.current[orderID] {
		return false
	}
	if a.members[orderID] == nil {
		a.members[orderID] = map[Member]int64{}
	}
	a.members[orderID][m] = version
	return true
}

// Forget drops m's registration for orderID (unsubscribe, disconnect, end
// of stream).
func (a *Access) Forget(orderID string, m Member) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.members[orderID], m)
	if len(a.members[orderID]) == 0 {
		delete(a.members, orderID)
	}
}

// revoke notes version as orderID's newest and returns, dropping them, the
// members that used an older one. Versions only grow, so a revocation that
// arrives late from another process changes nothing.
func (a *Access) revoke(orderID string, version int64) []Member {
	a.mu.Lock()
	defer a.mu.Unlock()
	if version <= a.current[orderID] {
		return nil
	}
	a.current[orderID] = version
	var out []Member
	for m, v := range a.members[orderID] {
		if v < version {
			out = append(out, m)
			delete(a.members[orderID], m)
		}
	}
	if len(a.members[orderID]) == 0 {
		delete(a.members, orderID)
	}
	return out
}

// Len counts registrations (tests, leaks).
func (a *Access) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ms := range a.members {
		n += len(ms)
	}
	return n
}
