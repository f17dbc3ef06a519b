package sockets

import "testing"

// The decoder refuses a packet with more binary attachments than allowed:
// 1 by default (ordercast's events are JSON), Config.MaxAttachments when
// set (the conformance fixture's 10: the protocol suites send 2).
func TestMaxAttachments(t *testing.T) {
	// The Socket.IO packet, without the Engine.IO MESSAGE type ("4").
	const header = `52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`
	tests := []struct {
		name  string
		limit int
		ok    bool
	}{
		{"default: 1", 0, false},
		{"raised to 2", 2, true},
		{"Node's 10", 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := strictParser{maxAttachments: uint64(tt.limit)}.NewDecoder()
			err := d.Add(header)
			if (err == nil) != tt.ok {
				t.Fatalf("Add(two attachments) with limit %d: %v, want ok=%v", tt.limit, err, tt.ok)
			}
			if err == nil {
				for _, b := range [][]byte{{1, 2, 3}, {4, 5, 6}} {
					if err := d.Add(b); err != nil {
						t.Fatalf("attachment: %v", err)
					}
				}
			}
		})
	}
}
