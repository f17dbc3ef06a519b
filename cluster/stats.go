package cluster

import (
	"sync"
	"time"

	"github.com/ordercast/ordercast/rooms"
)

// peerList holds the last figures heard from each other node.
type peerList struct {
	mu  sync.Mutex
	ttl time.Duration // Config.StatsTTL
	m   map[string]peer
}

type peer struct {
	stats rooms.Stats
	seen  time.Time
}

func (p *peerList) heard(node string, s rooms.Stats) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[node] = peer{stats: s, seen: time.Now()}
}

func (p *peerList) left(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, node)
}

// live returns the figures of the nodes heard within ttl, and forgets the
// others: a node killed without a word stops counting after ttl.
func (p *peerList) live() []rooms.Stats {
	now := time.Now()
	var others []rooms.Stats
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, q := range p.m {
		if now.Sub(q.seen) > p.ttl {
			delete(p.m, id)
			continue
		}
		others = append(others, q.stats)
	}
	return others
}

// Gather publishes this process's figures and returns the sum over every
// live node (rooms.Hub.RunStats calls it once per interval).
func (n *Node) Gather(local rooms.Stats) rooms.Stats {
	if err := n.send(message{Kind: kindStats, Stats: &local}); err != nil {
		n.log.Debug("stats not shared", "err", err)
	}
	return merge(local, n.peers.live())
}

// merge sums the figures of this node and the others. Rooms are summed per
// node, so a room with members on two processes counts twice; p50 latency
// is the mean of the nodes' p50 weighted by their events, p99 the largest.
func merge(local rooms.Stats, others []rooms.Stats) rooms.Stats {
	total := local
	total.Nodes = 1 + len(others)
	weighted := local.BroadcastLatencyMs.P50 * local.EventsPerSecond
	for _, s := range others {
		total.Connections.WebSocket += s.Connections.WebSocket
		total.Connections.Polling += s.Connections.Polling
		total.Rooms += s.Rooms
		total.EventsPerSecond += s.EventsPerSecond
		weighted += s.BroadcastLatencyMs.P50 * s.EventsPerSecond
		total.BroadcastLatencyMs.P99 = max(total.BroadcastLatencyMs.P99, s.BroadcastLatencyMs.P99)
	}
	if total.EventsPerSecond > 0 {
		total.BroadcastLatencyMs.P50 = weighted / total.EventsPerSecond
	}
	return total
}
