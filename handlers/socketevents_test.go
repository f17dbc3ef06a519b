package handlers

import "testing"

// IsClientEvent (what the metrics count by name) and the handler table
// (what is served) name the same events.
func TestClientEventsAreHandled(t *testing.T) {
	table := (&socketEvents{}).handlers()
	for name := range table {
		if !IsClientEvent(name) {
			t.Errorf("%s is handled but not a client event", name)
		}
	}
	for _, name := range []string{EvSubscribe, EvUnsubscribe, EvMessage, EvUpdateStatus, EvTyping, EvAssign, "order:other", "disconnect"} {
		if _, ok := table[name]; ok != IsClientEvent(name) {
			t.Errorf("%s: handled %v, client event %v", name, ok, IsClientEvent(name))
		}
	}
}
