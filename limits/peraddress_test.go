package limits

import (
	"fmt"
	"testing"
	"time"

	"github.com/ordercast/ordercast/internal/testenv"
)

func TestPerAddress(t *testing.T) {
	// A step advances the clock, then makes n requests from key; want is
	// how many are allowed.
	type step struct {
		advance time.Duration
		key     string
		n, want int
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{name: "burst, then refill at the rate, per address", rate: 10, burst: 20, steps: []step{
			{0, "a", 25, 20},
			{0, "b", 5, 5}, // another address has its own bucket
			{500 * time.Millisecond, "a", 10, 5},
			{time.Hour, "a", 30, 20}, // never more than the burst
		}},
		{name: "a fractional rate", rate: 0.5, burst: 1, steps: []step{
			{0, "a", 3, 1},
			{time.Second, "a", 1, 0},
			{time.Second, "a", 1, 1},
		}},
		{name: "a burst below 1 is 1", rate: 1, burst: 0, steps: []step{
			{0, "a", 2, 1},
			{time.Second, "a", 2, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testenv.NewClock()
			l := NewPerAddress(tt.rate, tt.burst, clock.Now)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				got := 0
				for range s.n {
					if l.Allow(s.key) {
						got++
					}
				}
				if got != s.want {
					t.Errorf("step %d: %d of %d allowed for %s, want %d", i, got, s.n, s.key, s.want)
				}
			}
		})
	}
}

// Buckets of addresses gone quiet are dropped, so a spray of addresses
// cannot grow the limiter without bound; a bucket still refilling is kept.
func TestPerAddressSweeps(t *testing.T) {
	tests := []struct {
		name        string
		rate        float64
		burst       int
		quiet       time.Duration // after the spray
		wantBuckets int
	}{
		{name: "every bucket has refilled: all dropped", rate: 100, burst: 100, quiet: 2 * time.Second, wantBuckets: 1},
		{name: "every bucket is half full: all kept", rate: 0.5, burst: 1, quiet: time.Second, wantBuckets: 5001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testenv.NewClock()
			l := NewPerAddress(tt.rate, tt.burst, clock.Now)
			for i := range 5000 {
				l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
			}
			clock.Advance(tt.quiet)
			l.Allow("192.0.2.1")
			if n := l.Len(); n != tt.wantBuckets {
				t.Fatalf("%d buckets kept after the sweep, want %d", n, tt.wantBuckets)
			}
		})
	}
}
