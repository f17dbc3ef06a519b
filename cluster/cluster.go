// Package cluster lets several ordercast processes serve the same orders
// through one Redis:
//
//   - the Socket.IO Redis adapter (zishang520 adapters/redis/v3, classic
//     pub/sub, the wire format of Node's @socket.io/redis-adapter and
//     @socket.io/redis-emitter) carries every io.To(room).Emit to the sockets
//     of every process, Go or Node;
//   - a node channel, "<prefix>-ordercast#", carries what the adapter can't:
//     stored events for other processes' SSE listeners, and each process's
//     stats once a second, summed by every process for its admin sockets;
//   - the node watches its Redis connection: readiness fails while it is
//     down (each process keeps serving its own sockets meanwhile), and when
//     it comes back every local subscriber resyncs by seq, because pub/sub
//     drops whatever was published while a process was not listening.
//
// Why classic pub/sub rather than sharded pub/sub or Redis Streams: it is
// the only transport that @socket.io/redis-emitter and the default
// @socket.io/redis-adapter speak, and letting a shop's Node services talk to
// ordercast is the point. Sharded pub/sub only pays off on a Redis Cluster
// and needs Node's createShardedAdapter; the streams adapter would keep
// connection state recovery working across processes, but Node's emitter
// cannot write to it, and ordercast clients never depend on recovery: they
// resync by seq from the store, which also covers what pub/sub drops.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/ordercast/ordercast/sockets"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/rooms"
)

// DefaultPrefix is the default `key` of Node's Redis adapter and emitter, so
// Node services left at their defaults talk to ordercast.
const DefaultPrefix = "socket.io"

// Config of a node.
type Config struct {
	// URL of the Redis server: redis://[user:password@]host:port[/db].
	URL string
	// Prefix of every channel (Node's `key`); DefaultPrefix when empty.
	// Processes and Node services that share rooms use the same prefix.
	Prefix string
	// NodeID names this process in Redis; hostname and a random suffix when
	// empty.
	NodeID string
	// StatsTTL is how long a node counts as alive after its last figures;
	// 3 s when zero.
	StatsTTL time.Duration
	// Hooks are added to every Redis client (metrics of command errors).
	Hooks []redis.Hook
}

// Local is what a node needs of its own process's rooms.Hub.
type Local interface {
	// Deliver hands another process's stored event to local sockets and
	// SSE listeners, in seq order.
	Deliver(e orders.Event)
	// DeliverCreated tells local support sockets about another process's
	// new order.
	DeliverCreated(o orders.Order)
	// ResyncListeners makes local SSE listeners catch up from the store.
	ResyncListeners()
}

// Publisher is how handlers publish stored events (rooms.Hub).
type Publisher interface {
	Publish(e orders.Event)
	OrderCreated(o orders.Order)
	Listen(orderID string) (*rooms.Listener, func())
	Watch(orderID string, seq int64)
}

// Sockets is what a node needs of this process's Socket.IO server.
type Sockets interface {
	// DeliverBare delivers a broadcast published on the adapter's channel
	// without a room (sockets.BareChannel).
	DeliverBare(payload string, log *slog.Logger)
	// DropConnections closes every local client's connection, so that it
	// reconnects and resubscribes.
	DropConnections()
}

// Node is this process's membership of the cluster.
type Node struct {
	cfg     Config
	log     *slog.Logger
	channel string
	// broadcasts is the adapter's channel without a room suffix (see
	// sockets.Server.DeliverBare).
	broadcasts string
	// adapterName is the CLIENT SETNAME of the adapter's subscriptions.
	adapterName string

	pub        *redis.Client // every PUBLISH (the adapter's too), PING
	adapterSub *redis.Client // the adapter's PSUBSCRIBE and SUBSCRIBE
	sub        *redis.Client // the node channel

	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	done    chan struct{} // closed when listen returns

	mu        sync.Mutex
	up        bool
	lastErr   error
	downSince time.Time
	peers     map[string]peer
	noList    bool // CLIENT LIST refused: don't ask again
}

type peer struct {
	stats rooms.Stats
	seen  time.Time
}

// message is what travels on the node channel.
type message struct {
	Node  string        `json:"node"`
	Kind  string        `json:"kind"`
	Event *orders.Event `json:"event,omitempty"`
	Order *orders.Order `json:"order,omitempty"`
	Stats *rooms.Stats  `json:"stats,omitempty"`
}

const (
	kindEvent   = "event"
	kindCreated = "created"
	kindStats   = "stats"
	kindLeave   = "leave"
)

// opTimeout bounds one Redis command of ours.
const opTimeout = 2 * time.Second

// Open prepares a node. It does not wait for Redis: a process started while
// Redis is down serves its own sockets and reports not ready until Redis
// answers.
func Open(cfg Config, log *slog.Logger) (*Node, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.StatsTTL <= 0 {
		cfg.StatsTTL = 3 * time.Second
	}
	if cfg.NodeID == "" {
		cfg.NodeID = defaultNodeID()
	}
	options := func(name string) (*redis.Options, error) {
		o, err := redis.ParseURL(cfg.URL)
		if err != nil {
			// Not %w: url.Error quotes the whole URL, password included.
			return nil, errors.New("parse redis URL: not a valid redis:// or rediss:// URL")
		}
		o.ClientName = name
		return o, nil
	}
	pubOpts, err := options("ordercast-" + cfg.NodeID)
	if err != nil {
		return nil, err
	}
	// Fail fast while Redis is down: a broadcast then still reaches this
	// process's sockets, only later.
	pubOpts.MaxRetries = 1
	pubOpts.DialerRetries = 1
	pubOpts.DialTimeout = opTimeout
	pubOpts.ReadTimeout = opTimeout
	pubOpts.WriteTimeout = opTimeout

	adapterName := "ordercast-adapter-" + cfg.NodeID
	adapterOpts, err := options(adapterName)
	if err != nil {
		return nil, err
	}
	adapterOpts.Dialer = sockets.RedisDialer(opTimeout)
	subOpts, err := options("ordercast-node-" + cfg.NodeID)
	if err != nil {
		return nil, err
	}
	subOpts.Dialer = sockets.RedisDialer(opTimeout)

	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:         cfg,
		log:         log.With("node", cfg.NodeID),
		channel:     cfg.Prefix + "-ordercast#",
		broadcasts:  sockets.BareChannel(cfg.Prefix),
		adapterName: adapterName,
		pub:         redis.NewClient(pubOpts),
		adapterSub:  redis.NewClient(adapterOpts),
		sub:         redis.NewClient(subOpts),
		ctx:         ctx,
		cancel:      cancel,
		done:        make(chan struct{}),
		lastErr:     errors.New("connecting"),
		peers:       map[string]peer{},
	}
	for _, h := range cfg.Hooks {
		n.pub.AddHook(h)
		n.adapterSub.AddHook(h)
		n.sub.AddHook(h)
	}
	return n, nil
}

func defaultNodeID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}

// ID is this node's name in Redis.
func (n *Node) ID() string { return n.cfg.NodeID }

// Adapter is the Socket.IO adapter for sockets.Config.Adapter.
// The adapter reports every failed PUBLISH and receive at debug level; the
// node's own subscription logs the outage once.
func (n *Node) Adapter() socket.AdapterConstructor {
	return sockets.RedisAdapter(n.ctx, n.pub, n.adapterSub, n.cfg.Prefix, n.log)
}

// Start listens on the node channel until Close. io's local sockets and
// local's SSE listeners are told to resync whenever the subscription starts
// again after Redis was out of reach.
func (n *Node) Start(io Sockets, local Local) {
	if n.started.Swap(true) {
		return
	}
	go n.listen(io, local)
}

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
			continue // the next Receive redials, spaced by backoffDialer
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// One confirmation per channel and (re)connection: count one.
			if m.Kind == "subscribe" && m.Channel == n.channel {
				n.subscribed(io, local)
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

func (n *Node) lost(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lastErr = err
	if n.up {
		n.up = false
		n.downSince = time.Now()
		n.log.Warn("redis unreachable: each process serves only its own sockets until it returns", "err", err)
	}
}

// subscribed runs on every (re)subscription of the node channel.
func (n *Node) subscribed(io Sockets, local Local) {
	// Broadcasts from other processes arrive through the adapter's own
	// subscriptions, which reconnect on their own schedule: wait for them,
	// or subscribers would resync before they can hear what follows.
	n.waitAdapter()
	n.mu.Lock()
	first := n.downSince.IsZero()
	down := time.Since(n.downSince)
	n.up, n.lastErr = true, nil
	n.mu.Unlock()
	if first {
		n.log.Info("redis connected", "prefix", n.cfg.Prefix)
	} else {
		n.log.Info("redis reconnected: local subscribers resync by seq", "down_for", down.Round(time.Millisecond))
	}
	// Anything published while this process was not subscribed is lost to
	// it (pub/sub keeps nothing): SSE streams catch up from the store, and
	// sockets are closed at the transport level so that their clients
	// reconnect and subscribe again with `since`, as the pages do. On the
	// first subscription this only matters to clients that connected
	// before it.
	local.ResyncListeners()
	io.DropConnections()
}

// waitAdapter polls CLIENT LIST until the adapter's connections have their
// pattern and channel subscriptions, for at most 5 s.
func (n *Node) waitAdapter() {
	deadline := time.Now().Add(5 * time.Second)
	for n.ctx.Err() == nil {
		ok, err := n.adapterSubscribed()
		if err != nil {
			n.mu.Lock()
			if !n.noList {
				n.noList = true
				n.log.Info("redis CLIENT LIST refused: not waiting for the adapter's subscriptions", "err", err)
			}
			n.mu.Unlock()
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

func (n *Node) adapterSubscribed() (bool, error) {
	n.mu.Lock()
	noList := n.noList
	n.mu.Unlock()
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

func isCommandRefused(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

func clientFields(line string) map[string]string {
	f := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	return f
}

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
			n.mu.Lock()
			n.peers[m.Node] = peer{stats: *m.Stats, seen: time.Now()}
			n.mu.Unlock()
		}
	case kindLeave:
		n.mu.Lock()
		delete(n.peers, m.Node)
		n.mu.Unlock()
	}
}

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

// Relay returns p, which also tells other processes about each stored
// event and new order, so that each delivers them to its own sockets and
// SSE listeners (each process orders an order's events by seq before its
// sockets get them: rooms.Hub).
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

// Gather publishes this process's figures and returns the sum over every
// live node (rooms.Hub.RunStats calls it once per interval).
func (n *Node) Gather(local rooms.Stats) rooms.Stats {
	if err := n.send(message{Kind: kindStats, Stats: &local}); err != nil {
		n.log.Debug("stats not shared", "err", err)
	}
	now := time.Now()
	var others []rooms.Stats
	n.mu.Lock()
	for id, p := range n.peers {
		if now.Sub(p.seen) > n.cfg.StatsTTL {
			delete(n.peers, id) // killed without a word
			continue
		}
		others = append(others, p.stats)
	}
	n.mu.Unlock()
	return merge(local, others)
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

// Check is the readiness check: Redis answers and this node's
// subscriptions are in place.
func (n *Node) Check(ctx context.Context) error {
	n.mu.Lock()
	up, lastErr := n.up, n.lastErr
	n.mu.Unlock()
	if !up {
		return fmt.Errorf("unreachable: %w", lastErr)
	}
	if err := n.pub.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("unreachable: %w", err)
	}
	return nil
}

// Stopping tells the node that the process is shutting down, before the
// Socket.IO server closes. While Redis is unreachable it stops trying to
// reach it, so that the adapter's unsubscribes on close fail at once instead
// of each waiting for a reconnect. While Redis is up it changes nothing:
// requests still finishing keep broadcasting to other processes.
func (n *Node) Stopping() {
	n.mu.Lock()
	up := n.up
	n.mu.Unlock()
	if !up {
		n.cancel()
	}
}

// Close tells the other nodes this one is leaving, stops listening and
// closes the Redis clients. Call it after the Socket.IO server is closed.
func (n *Node) Close() error {
	if n.ctx.Err() == nil {
		if err := n.send(message{Kind: kindLeave}); err != nil {
			n.log.Debug("leave not announced", "err", err)
		}
	}
	n.cancel()
	// Closing the client ends a Receive blocked in a read, which the
	// context alone does not.
	subErr := n.sub.Close()
	if n.started.Load() {
		<-n.done
	}
	return errors.Join(subErr, n.adapterSub.Close(), n.pub.Close())
}

// RouteRedisLogs sends go-redis's own log lines (a failed dial, once per
// pooled connection during an outage) to log at debug level, instead of
// unstructured lines on stderr. It sets go-redis's process-wide logger, so
// main calls it once.
func RouteRedisLogs(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
