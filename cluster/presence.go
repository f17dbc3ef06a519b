package cluster

import (
	"sync/atomic"
	"time"

	"github.com/ordercast/ordercast/presence"
)

// Book is this process's presence counts (presence.Book): what it shares
// on the node channel and what it learns there.
type Book interface {
	Flush() (presence.Snapshot, bool)
	Full() presence.Snapshot
	Heard(node string, s presence.Snapshot)
	Left(node string)
	Known(node string) bool
	Expire()
}

// presenceSync is the node's side of presence: the book, and a signal that
// a full snapshot is due (a node heard for the first time wants ours).
type presenceSync struct {
	book atomic.Value // bookRef
	due  chan struct{}
}

type bookRef struct{ Book }

// SharePresence makes this node share b's counts with the other nodes and
// keep theirs in b, until Close: changes at most every
// presence.FlushInterval, everything every presence.Heartbeat, and nodes
// silent for presence.TTL are dropped (presence.ExpireInterval). Counting
// costs no Redis round trip: sockets only touch b. Call it once, before
// Start.
func (n *Node) SharePresence(b Book) {
	n.presence.book.Store(bookRef{b})
	go n.syncPresence(b)
}

func (n *Node) presenceBook() Book {
	ref, _ := n.presence.book.Load().(bookRef)
	return ref.Book
}

// wantFullPresence asks syncPresence to send a full snapshot soon.
func (n *Node) wantFullPresence() {
	select {
	case n.presence.due <- struct{}{}:
	default: // one is due already
	}
}

func (n *Node) syncPresence(b Book) {
	flush := time.NewTicker(presence.FlushInterval)
	heartbeat := time.NewTicker(presence.Heartbeat)
	expire := time.NewTicker(presence.ExpireInterval)
	defer flush.Stop()
	defer heartbeat.Stop()
	defer expire.Stop()
	// One goroutine sends them all, so other nodes get them in order.
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-flush.C:
			if s, ok := b.Flush(); ok {
				n.sendPresence(s)
			}
		case <-heartbeat.C:
			n.sendPresence(b.Full())
		case <-n.presence.due:
			n.sendPresence(b.Full())
		case <-expire.C:
			b.Expire()
		}
	}
}

func (n *Node) sendPresence(s presence.Snapshot) {
	if err := n.send(message{Kind: kindPresence, Presence: &s}); err != nil {
		// The next heartbeat repairs what was lost.
		n.log.Debug("presence not shared", "err", err)
	}
}

// heardPresence takes another node's snapshot; a node heard for the first
// time gets our full counts at once rather than at our next heartbeat.
func (n *Node) heardPresence(node string, s presence.Snapshot) {
	b := n.presenceBook()
	if b == nil {
		return
	}
	if !b.Known(node) {
		n.wantFullPresence()
	}
	b.Heard(node, s)
}
