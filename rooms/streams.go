package rooms

import (
	"sync"
)

// Streams fan each order's events out to its SSE streams on this process;
// the hub hands them over in seq order.
type Streams struct {
	mu        sync.Mutex
	listeners map[string]map[*Listener]struct{}
}

// NewStreams returns an empty fan-out.
func NewStreams() *Streams {
	return &Streams{listeners: map[string]map[*Listener]struct{}{}}
}

// Listener receives one order's events on this process (SSE streams).
type Listener struct {
	C chan Delivery
	// Lagged is closed when the listener fell behind and was dropped; its
	// reader resumes from the store by seq.
	Lagged chan struct{}
	once   sync.Once
}

// Listen subscribes to order id's events; call the returned func to stop.
func (h *Streams) Listen(id string) (*Listener, func()) {
	l := &Listener{C: make(chan Delivery, 64), Lagged: make(chan struct{})}
	h.mu.Lock()
	if h.listeners[id] == nil {
		h.listeners[id] = map[*Listener]struct{}{}
	}
	h.listeners[id][l] = struct{}{}
	h.mu.Unlock()
	return l, func() { h.unlisten(id, l) }
}

func (h *Streams) unlisten(id string, l *Listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.listeners[id], l)
	if len(h.listeners[id]) == 0 {
		delete(h.listeners, id)
	}
}

// Len counts SSE listeners on this process.
func (h *Streams) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ls := range h.listeners {
		n += len(ls)
	}
	return n
}

func (h *Streams) deliver(e Delivery) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners[e.OrderID] {
		select {
		case l.C <- e:
		default:
			// Never block a broadcast on a slow reader.
			l.once.Do(func() { close(l.Lagged) })
			delete(h.listeners[e.OrderID], l)
		}
	}
}

// ResyncListeners makes every SSE listener of this process catch up from the
// store by seq, as if it had lagged: after a Redis outage, events published
// by other processes in the meantime never reached this one.
func (h *Streams) ResyncListeners() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ls := range h.listeners {
		for l := range ls {
			l.once.Do(func() { close(l.Lagged) })
		}
		delete(h.listeners, id)
	}
}
