package cluster

import (
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
)

// Publisher is how handlers publish stored events (rooms.Hub).
type Publisher interface {
	Publish(e orders.Event)
	OrderCreated(o orders.Order)
	Watch(orderID string, seq int64)
	TokenReplaced(orderID string, version int64)
	Admit(orderID string, m rooms.Member, version int64) bool
	Forget(orderID string, m rooms.Member)
}

// Relay returns p, which also tells other processes about each stored
// event and new order, so that each delivers them to its own sockets and
// SSE listeners (each process orders an order's events by seq before its
// sockets get them: rooms.Hub). It may be called at any time: what it
// sends while Redis is unreachable, or after Close, other processes miss
// and resync from the store.
func (n *Node) Relay(p Publisher) Publisher { return relay{Publisher: p, n: n} }

type relay struct {
	Publisher
	n *Node
}

func (r relay) Publish(e orders.Event) {
	r.Publisher.Publish(e)
	if err := r.n.send(message{Kind: kindEvent, Event: &e}); err != nil {
		// Other processes resync from the store when Redis is back.
		r.n.log.Debug("event not relayed", "order", e.OrderID, "seq", e.Seq, "err", err)
	}
}

func (r relay) OrderCreated(o orders.Order) {
	r.Publisher.OrderCreated(o)
	if err := r.n.send(message{Kind: kindCreated, Order: &o}); err != nil {
		r.n.log.Debug("new order not relayed", "order", o.ID, "err", err)
	}
}

// TokenReplaced cuts off what used the order's old token here, and on the
// other processes through the node channel. A process that misses it
// (Redis out of reach) drops its connections when Redis is back (health.go),
// and the old token no longer subscribes anywhere: the store has the new
// hash.
func (r relay) TokenReplaced(id string, version int64) {
	r.Publisher.TokenReplaced(id, version)
	if err := r.n.send(message{Kind: kindToken, OrderID: id, Version: version}); err != nil {
		r.n.log.Warn("token replacement not relayed", "order", id, "err", err)
	}
}
