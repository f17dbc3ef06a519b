package sockets

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	siocluster "github.com/zishang520/socket.io/adapters/adapter/v3"
	sioredis "github.com/zishang520/socket.io/adapters/redis/v3"
	sioadapter "github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// RedisAdapter builds the Socket.IO Redis adapter (classic pub/sub, the
// wire format of Node's @socket.io/redis-adapter and redis-emitter) on pub
// and a subscription client of its own, with channels under prefix.
// Adapter errors go to log at debug level: the caller reports outages.
func RedisAdapter(ctx context.Context, pub, sub *redis.Client, prefix string, log *slog.Logger) socket.AdapterConstructor {
	client := sioredis.NewRedisClientWithSub(ctx, pub, sub)
	_ = client.On("error", func(args ...any) {
		if len(args) > 0 {
			log.Debug("redis adapter error", "err", args[0])
		}
	})
	opts := sioadapter.DefaultRedisAdapterOptions()
	opts.SetKey(prefix)
	return &sioadapter.RedisAdapterBuilder{Redis: client, Opts: opts}
}

// BareChannel is the adapter's channel for broadcasts without a room
// suffix (see DeliverBare).
func BareChannel(prefix string) string { return prefix + "#/#" }

// DeliverBare delivers to this process's sockets a broadcast published on
// BareChannel: a broadcast to several rooms, or to every socket, from
// another process, a Node server or an emitter.
//
// Defect 11 (adapters/redis/v3 adapter.onMessage): the adapter drops any
// message whose channel is not longer than "<prefix>#/#" ("ignore channel:
// shorter than expected"); Node's @socket.io/redis-adapter accepts it (room
// ""). The adapter's pattern subscription sees these messages and drops
// them, so the caller subscribes to BareChannel itself and hands each
// payload here. Remove when the adapter accepts the bare channel.
func (s *Server) DeliverBare(payload string, log *slog.Logger) {
	ad, ok := s.IO.Sockets().Adapter().(sioadapter.RedisAdapter)
	if !ok {
		return
	}
	var p *sioredis.RedisPacket
	if err := ad.Parser().Decode([]byte(payload), &p); err != nil || p == nil || p.Packet == nil {
		log.Debug("ignoring a malformed broadcast", "err", err)
		return
	}
	if p.Uid == ad.Uid() {
		return // our own: already delivered locally
	}
	if p.Packet.Nsp == "" {
		p.Packet.Nsp = "/"
	}
	if p.Packet.Nsp != "/" {
		return
	}
	opts := siocluster.DecodeOptions(p.Opts)
	flags := socket.BroadcastFlags{}
	if opts.Flags != nil {
		flags = *opts.Flags
	}
	flags.Local = true // deliver here, publish nothing
	opts.Flags = &flags
	ad.Broadcast(p.Packet, opts)
}
