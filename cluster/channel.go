package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/presence"
	"github.com/ordercast/ordercast/rooms"
)

// The node channel, "<prefix>-ordercast#", carries JSON messages between
// ordercast processes only: Node services never see it.

// message is what travels on the node channel.
type message struct {
	Node  string        `json:"node"`
	Kind  string        `json:"kind"`
	Event *orders.Event `json:"event,omitempty"`
	Order *orders.Order `json:"order,omitempty"`
	Stats *rooms.Stats  `json:"stats,omitempty"`
	// Presence is a node's presence counts (presence.go).
	Presence *presence.Snapshot `json:"presence,omitempty"`
}

// Kinds of message.
const (
	kindEvent    = "event"    // a stored event (relay.go)
	kindCreated  = "created"  // a new order (relay.go)
	kindStats    = "stats"    // a node's figures, once per interval (stats.go)
	kindLeave    = "leave"    // a node closing: stop counting it at once
	kindPresence = "presence" // a node's presence counts (presence.go)
)

// send publishes m as this node's.
func (n *Node) send(m message) error {
	m.Node = n.cfg.NodeID
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Kind, err)
	}
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	if err := n.pub.Publish(ctx, n.channel, b).Err(); err != nil {
		return fmt.Errorf("publish %s message: %w", m.Kind, err)
	}
	return nil
}

// listen subscribes to the node channel, and to the adapter's bare channel
// (see sockets.Server.DeliverBare), until Close.
func (n *Node) listen(io Sockets, local Local) {
	defer close(n.done)
	ps := n.sub.Subscribe(n.ctx, n.channel, n.broadcasts)
	defer ps.Close()
	for {
		msg, err := ps.Receive(n.ctx)
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.lost(err)
			continue // the next Receive redials, spaced by sockets.RedisDialer
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// One confirmation per channel and (re)connection: count one.
			if m.Kind == "subscribe" && m.Channel == n.channel {
				n.subscribed(io, local)
				n.wantFullPresence() // the others learn of us at once
			}
		case *redis.Message:
			if m.Channel == n.broadcasts {
				io.DeliverBare(m.Payload, n.log)
			} else {
				n.receive(local, m.Payload)
			}
		}
	}
}

// receive handles one message from another node; its own are ignored.
func (n *Node) receive(local Local, payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		n.log.Debug("ignoring a malformed node message", "err", err)
		return
	}
	if m.Node == n.cfg.NodeID || m.Node == "" {
		return
	}
	switch m.Kind {
	case kindEvent:
		if m.Event != nil && orders.ValidID(m.Event.OrderID) {
			local.Deliver(*m.Event)
		}
	case kindCreated:
		if m.Order != nil && orders.ValidID(m.Order.ID) {
			local.DeliverCreated(*m.Order)
		}
	case kindStats:
		if m.Stats != nil {
			n.peers.heard(m.Node, *m.Stats)
		}
	case kindPresence:
		if m.Presence != nil {
			n.heardPresence(m.Node, *m.Presence)
		}
	case kindLeave:
		n.peers.left(m.Node)
		if b := n.presenceBook(); b != nil {
			b.Left(m.Node)
		}
	}
}
