package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/sockets"
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

// Node is this process's membership of the cluster. See the package doc
// for its lifecycle.
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

	ctx    context.Context
	cancel context.CancelFunc

	adapter     func() socket.AdapterConstructor
	link        link     // health.go
	peers       peerList // stats.go
	presence    presenceSync
	closeResult func() error

	mu      sync.Mutex // guards started and closed
	started bool
	closed  bool
	done    chan struct{} // closed when listen returns
}

// opTimeout bounds one Redis command of ours.
const opTimeout = 2 * time.Second

// New prepares a node. It does not wait for Redis: a process started while
// Redis is down serves its own sockets and reports not ready until Redis
// answers.
func New(cfg Config, log *slog.Logger) (*Node, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.StatsTTL <= 0 {
		cfg.StatsTTL = 3 * time.Second
	}
	if cfg.NodeID == "" {
		cfg.NodeID = defaultNodeID()
	}
	pubOpts, err := clientOptions(cfg.URL, "ordercast-"+cfg.NodeID)
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
	adapterOpts, err := clientOptions(cfg.URL, adapterName)
	if err != nil {
		return nil, err
	}
	// Subscribers redial with backoff, or their receive loops spin while
	// Redis is down.
	adapterOpts.Dialer = sockets.RedisDialer(opTimeout)
	subOpts, err := clientOptions(cfg.URL, "ordercast-node-"+cfg.NodeID)
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
		link:        link{lastErr: errors.New("connecting")},
		peers:       peerList{ttl: cfg.StatsTTL, m: map[string]peer{}},
		presence:    presenceSync{due: make(chan struct{}, 1)},
		done:        make(chan struct{}),
	}
	for _, h := range cfg.Hooks {
		n.pub.AddHook(h)
		n.adapterSub.AddHook(h)
		n.sub.AddHook(h)
	}
	// One adapter per node: a second would subscribe the same client again.
	n.adapter = sync.OnceValue(func() socket.AdapterConstructor {
		return sockets.RedisAdapter(n.ctx, n.pub, n.adapterSub, n.cfg.Prefix, n.log)
	})
	n.closeResult = sync.OnceValue(n.close)
	return n, nil
}

func clientOptions(url, name string) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		// Not %w: url.Error quotes the whole URL, password included.
		return nil, errors.New("parse redis URL: not a valid redis:// or rediss:// URL")
	}
	o.ClientName = name
	return o, nil
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

// Adapter is the Socket.IO adapter for sockets.Config.Adapter; every call
// returns the same one. The adapter reports every failed PUBLISH and
// receive at debug level; the node's own subscription logs the outage once.
func (n *Node) Adapter() socket.AdapterConstructor { return n.adapter() }

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

// Sockets is what a node needs of this process's Socket.IO server.
type Sockets interface {
	// DeliverBare delivers a broadcast published on the adapter's channel
	// without a room (sockets.BareChannel).
	DeliverBare(payload string, log *slog.Logger)
	// DropConnections closes every local client's connection, so that it
	// reconnects and resubscribes.
	DropConnections()
}

// Start listens on the node channel until Close. io's local sockets and
// local's SSE listeners are told to resync whenever the subscription starts
// again after Redis was out of reach. Only the first call before Close
// does anything.
func (n *Node) Start(io Sockets, local Local) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started || n.closed {
		return
	}
	n.started = true
	go n.listen(io, local)
}

// Stopping tells the node that the process is shutting down, before the
// Socket.IO server closes. While Redis is unreachable it stops trying to
// reach it, so that the adapter's unsubscribes on close fail at once instead
// of each waiting for a reconnect. While Redis is up it changes nothing:
// requests still finishing keep broadcasting to other processes.
func (n *Node) Stopping() {
	if !n.link.isUp() {
		n.cancel()
	}
}

// Close tells the other nodes this one is leaving, stops listening and
// closes the Redis clients. Call it after the Socket.IO server is closed.
// Later calls return the first call's result.
func (n *Node) Close() error { return n.closeResult() }

func (n *Node) close() error {
	if n.ctx.Err() == nil {
		if err := n.send(message{Kind: kindLeave}); err != nil {
			n.log.Debug("leave not announced", "err", err)
		}
	}
	n.mu.Lock()
	n.closed = true
	started := n.started
	n.mu.Unlock()
	n.cancel()
	// Closing the client ends a Receive blocked in a read, which the
	// context alone does not.
	subErr := n.sub.Close()
	if started {
		<-n.done
	}
	return errors.Join(subErr, n.adapterSub.Close(), n.pub.Close())
}
