package app

import (
	"github.com/ordercast/ordercast/cluster"
	"github.com/ordercast/ordercast/orders"
	"github.com/ordercast/ordercast/store"
)

// recording hands the cache the events other processes stored and
// published, before the hub delivers them, so that subscribes here find
// them in memory (the cache checks every read against the store anyway).
type recording struct {
	cluster.Local
	cache *store.Cache
}

func (r recording) Deliver(e orders.Event) {
	r.cache.Record(e)
	r.Local.Deliver(e)
}
