package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// link is the node's view of its Redis connection, as its node-channel
// subscription sees it.
type link struct {
	mu        sync.Mutex
	up        bool
	lastErr   error
	downSince time.Time // zero until the first outage
	noList    bool      // CLIENT LIST refused: don't ask again
}

func (l *link) isUp() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.up
}

// Check is the readiness check: Redis answers and this node's
// subscriptions are in place.
func (n *Node) Check(ctx context.Context) error {
	n.link.mu.Lock()
	up, lastErr := n.link.up, n.link.lastErr
	n.link.mu.Unlock()
	if !up {
		return fmt.Errorf("unreachable: %w", lastErr)
	}
	if err := n.pub.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("unreachable: %w", err)
	}
	return nil
}

// lost runs on every failed receive; it logs the outage once.
func (n *Node) lost(err error) {
	l := &n.link
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = err
	if l.up {
		l.up = false
		l.downSince = time.Now()
		n.log.Warn("redis unreachable: each process serves only its own sockets until it returns", "err", err)
	}
}

// subscribed runs on every (re)subscription of the node channel.
func (n *Node) subscribed(io Sockets, local Local) {
	// Broadcasts from other processes arrive through the adapter's own
	// subscriptions, which reconnect on their own schedule: wait for them,
	// or subscribers would resync before they can hear what follows.
	n.waitAdapter()
	l := &n.link
	l.mu.Lock()
	first := l.downSince.IsZero()
	down := time.Since(l.downSince)
	l.mu.Unlock()
	// Anything published while this process was not subscribed is lost to
	// it (pub/sub keeps nothing): SSE streams catch up from the store, and
	// sockets are closed at the transport level so that their clients
	// reconnect and subscribe again with `since`, as the pages do. On the
	// first subscription this only matters to clients that connected
	// before it. Readiness (Check) follows the resync, so a client sent
	// here once the process is ready is never dropped by it.
	local.ResyncListeners()
	io.DropConnections()
	l.mu.Lock()
	l.up, l.lastErr = true, nil
	l.mu.Unlock()
	if first {
		n.log.Info("redis connected", "prefix", n.cfg.Prefix)
	} else {
		n.log.Info("redis reconnected: local subscribers resync by seq", "down_for", down.Round(time.Millisecond))
	}
}

// waitAdapter polls CLIENT LIST until the adapter's connections have their
// pattern and channel subscriptions, for at most 5 s.
func (n *Node) waitAdapter() {
	deadline := time.Now().Add(5 * time.Second)
	for n.ctx.Err() == nil {
		ok, err := n.adapterSubscribed()
		if err != nil {
			n.link.mu.Lock()
			if !n.link.noList {
				n.link.noList = true
				n.log.Info("redis CLIENT LIST refused: not waiting for the adapter's subscriptions", "err", err)
			}
			n.link.mu.Unlock()
			return
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			n.log.Warn("the Redis adapter did not subscribe within 5 s")
			return
		}
		select {
		case <-n.ctx.Done():
		case <-time.After(20 * time.Millisecond): // poll interval of a deadline wait
		}
	}
}

// adapterSubscribed reports whether the adapter's connections (found by
// client name) hold a pattern and a channel subscription. An error means
// Redis refuses CLIENT LIST (an ACL, a managed Redis): don't wait then.
func (n *Node) adapterSubscribed() (bool, error) {
	n.link.mu.Lock()
	noList := n.link.noList
	n.link.mu.Unlock()
	if noList {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(n.ctx, opTimeout)
	defer cancel()
	list, err := n.pub.ClientList(ctx).Result()
	if err != nil {
		if isCommandRefused(err) {
			return false, err
		}
		return false, nil // Redis itself is unsteady: try again
	}
	var psub, sub int
	for _, line := range strings.Split(list, "\n") {
		f := clientFields(line)
		if f["name"] != n.adapterName {
			continue
		}
		p, _ := strconv.Atoi(f["psub"])
		s, _ := strconv.Atoi(f["sub"])
		psub += p
		sub += s
	}
	return psub > 0 && sub > 0, nil
}

// isCommandRefused tells a Redis error reply from a network failure.
func isCommandRefused(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// clientFields parses one line of CLIENT LIST: "k=v k=v ...".
func clientFields(line string) map[string]string {
	f := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	return f
}
