package cluster

import (
	"testing"

	"github.com/ordercast/ordercast/presence"
)

type quietNotifier struct{}

func (quietNotifier) Presence(string, presence.Counts) {}
func (quietNotifier) SupportOnline(int)                {}

// TestPresenceAcrossNodes: counts made on one node reach the other over
// Redis, and a node that closes drops out of the other's counts at once.
func TestPresenceAcrossNodes(t *testing.T) {
	books := []*presence.Book{presence.New(quietNotifier{}, nil), presence.New(quietNotifier{}, nil)}
	nodes, _ := startNodes(t, 2, func(i int, n *Node) { n.SharePresence(books[i]) })
	a, b := books[0], books[1]
	a.Join("o", false)
	b.Join("o", true)
	b.StaffOnline(1)
	for _, bk := range books {
		eventually(t, "both counts on every node", func() bool {
			return bk.Total("o") == (presence.Counts{Customers: 1, Staff: 1}) && bk.Online() == 1
		})
	}
	a.Leave("o", false)
	eventually(t, "a leave reaches the other node", func() bool { return b.Total("o") == (presence.Counts{Staff: 1}) })
	if err := nodes[1].Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a closed node drops out", func() bool { return a.Online() == 0 && a.Total("o") == (presence.Counts{}) })
}
