package cluster

import (
	"testing"

	"github.com/ordercast/ordercast/rooms"
)

func TestGatherCountsLiveNodes(t *testing.T) {
	nodes, _ := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	sa := rooms.Stats{Connections: rooms.Connections{WebSocket: 2, Polling: 1}, Rooms: 3, EventsPerSecond: 1, Nodes: 1}
	sb := rooms.Stats{Connections: rooms.Connections{WebSocket: 5}, Rooms: 1, EventsPerSecond: 3, Nodes: 1}

	var got rooms.Stats
	eventually(t, "a sees b", func() bool {
		b.Gather(sb)
		got = a.Gather(sa)
		return got.Nodes == 2
	})
	want := rooms.Connections{WebSocket: 7, Polling: 1}
	if got.Connections != want || got.Rooms != 4 || got.EventsPerSecond != 4 {
		t.Fatalf("merged %+v, want connections %+v, rooms 4, 4 events/s", got, want)
	}

	// A node that leaves says so: it stops counting at once, not after
	// StatsTTL.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a forgets b", func() bool { return a.Gather(sa).Nodes == 1 })
}

func TestMerge(t *testing.T) {
	st := func(ws, poll, rms int, eps, p50, p99 float64) rooms.Stats {
		return rooms.Stats{Connections: rooms.Connections{WebSocket: ws, Polling: poll}, Rooms: rms,
			EventsPerSecond: eps, BroadcastLatencyMs: rooms.Latency{P50: p50, P99: p99}, Nodes: 1}
	}
	tests := []struct {
		name   string
		local  rooms.Stats
		others []rooms.Stats
		want   rooms.Stats
	}{
		{"alone", st(1, 2, 3, 4, 5, 6), nil, st(1, 2, 3, 4, 5, 6)},
		{"sums and weights p50 by events", st(1, 0, 2, 1, 10, 20), []rooms.Stats{st(0, 3, 1, 3, 2, 50)},
			func() rooms.Stats { s := st(1, 3, 3, 4, 4, 50); s.Nodes = 2; return s }()},
		{"idle nodes", st(1, 0, 1, 0, 0, 0), []rooms.Stats{st(1, 0, 1, 0, 0, 0), st(0, 1, 0, 0, 0, 0)},
			func() rooms.Stats { s := st(2, 1, 2, 0, 0, 0); s.Nodes = 3; return s }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := merge(tt.local, tt.others); got != tt.want {
				t.Fatalf("merge = %+v, want %+v", got, tt.want)
			}
		})
	}
}
