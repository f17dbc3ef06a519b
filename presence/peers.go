package presence

// Flush returns what changed here since the last Flush (ok false when
// nothing did), as a partial snapshot for the other processes.
func (b *Book) Flush() (Snapshot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dirty) == 0 && !b.staffD {
		return Snapshot{}, false
	}
	s := Snapshot{Staff: b.staff, Orders: make(map[string]Counts, len(b.dirty))}
	for id := range b.dirty {
		s.Orders[id] = b.local[id] // zero when gone: the others drop it
	}
	clear(b.dirty)
	b.staffD = false
	return s, true
}

// Full returns every count of this process, for the heartbeat. It also
// clears what Flush would send, which it includes.
func (b *Book) Full() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Snapshot{Full: true, Staff: b.staff, Orders: make(map[string]Counts, len(b.local))}
	for id, c := range b.local {
		s.Orders[id] = c
	}
	clear(b.dirty)
	b.staffD = false
	return s
}

// Heard takes a snapshot from process node, and notifies the totals it
// changes. A process's snapshots must be given in the order it sent them.
func (b *Book) Heard(node string, s Snapshot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.peers[node]
	if p == nil {
		p = &peer{orders: map[string]Counts{}}
		b.peers[node] = p
	}
	p.seen = b.now()
	changed := map[string]bool{}
	if s.Full {
		for id := range p.orders {
			if _, ok := s.Orders[id]; !ok {
				delete(p.orders, id)
				changed[id] = true
			}
		}
	}
	for id, c := range s.Orders {
		if c.Customers < 0 || c.Staff < 0 {
			continue // not from an ordercast process: ignored
		}
		if p.orders[id] != c {
			changed[id] = true
		}
		if c == (Counts{}) {
			delete(p.orders, id)
		} else {
			p.orders[id] = c
		}
	}
	p.staff = max(s.Staff, 0)
	for id := range changed {
		b.show(id)
	}
	b.showOnline()
}

// Known reports whether node has been heard from and not dropped since.
func (b *Book) Known(node string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peers[node] != nil
}

// Left drops node's counts at once (it said it is leaving).
func (b *Book) Left(node string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drop(node)
}

// Expire drops the processes not heard from within TTL.
func (b *Book) Expire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for node, p := range b.peers {
		if now.Sub(p.seen) > TTL {
			b.drop(node)
		}
	}
}

// drop forgets node and notifies the totals that change; b.mu held.
func (b *Book) drop(node string) {
	p := b.peers[node]
	if p == nil {
		return
	}
	delete(b.peers, node)
	for id := range p.orders {
		b.show(id)
	}
	b.showOnline()
}
