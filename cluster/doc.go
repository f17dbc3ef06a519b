// Package cluster lets several ordercast processes serve the same orders
// through one Redis:
//
//   - the Socket.IO Redis adapter (zishang520 adapters/redis/v3, classic
//     pub/sub, the wire format of Node's @socket.io/redis-adapter and
//     @socket.io/redis-emitter) carries every io.To(room).Emit to the sockets
//     of every process, Go or Node;
//   - a node channel, "<prefix>-ordercast#", carries what the adapter can't:
//     stored events for other processes' SSE listeners, each process's
//     stats once a second, summed by every process for its admin sockets,
//     and each process's presence counts (presence.go: changes every
//     100 ms at most, everything every 2 s; a silent process is dropped
//     after 6 s);
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
//
// # Lifecycle
//
// New prepares a node without waiting for Redis; Close ends it. In between:
//
//   - Adapter, Relay, Gather, Check and ID may be called at any time, in any
//     order. Relay and Gather publish through the node's own client, so they
//     work before Start (Gather counts only peers heard since Start).
//   - Start(io, local) is called once, with the Socket.IO server built on
//     Adapter() and the hub that Relay wraps: it needs both, and they need
//     the node, so it cannot be part of New. It begins listening on the node
//     channel; until then Check fails. A second Start, or a Start after
//     Close, does nothing.
//   - Stopping is optional: called before the Socket.IO server closes, it
//     only makes shutdown during an outage quicker.
//   - Close is called after the Socket.IO server is closed, because the
//     adapter publishes through the node's clients. Close is idempotent.
//   - SharePresence(book) is called once, before Start, so that the first
//     subscription already sends this process's counts.
//
// In main: New, Adapter → sockets.New, Relay(hub), SharePresence(book),
// Start(sio, hub), Stopping, sio.Close, Close. The package sets no process-wide state; go-redis
// log routing is internal/redislog's, called once by main.
//
// Files: cluster.go (Config, Node, New, Start, Stopping, Close), channel.go
// (the node-channel protocol), health.go (readiness, outage and resync),
// stats.go (figures of every node), relay.go (the Publisher decorator),
// presence.go (presence counts of every node).
package cluster
