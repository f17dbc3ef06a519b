package rooms

import (
	"testing"
	"time"
)

func TestStatsWindowPercentiles(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		in       []time.Duration
		n        int
		p50, p99 float64
	}{
		{"empty", nil, 0, 0, 0},
		{"one", []time.Duration{3 * ms}, 1, 3, 3},
		{"two: p99 is the larger", []time.Duration{100 * ms, 1 * ms}, 2, 1, 100},
		{"hundred", hundred(), 100, 50, 99},
		{"sub-millisecond kept", []time.Duration{250 * time.Microsecond}, 1, 0.25, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newStatsWindow()
			for _, d := range tt.in {
				w.record(d)
			}
			n, lat := w.take()
			if n != tt.n || lat.P50 != tt.p50 || lat.P99 != tt.p99 {
				t.Fatalf("take() = %d, %+v; want %d, p50 %v p99 %v", n, lat, tt.n, tt.p50, tt.p99)
			}
			if n2, _ := w.take(); n2 != 0 {
				t.Fatalf("second take() = %d, want 0: the window resets", n2)
			}
		})
	}
}

// hundred is 1..100 ms, shuffled by a stride.
func hundred() []time.Duration {
	out := make([]time.Duration, 0, 100)
	for i := 0; i < 100; i++ {
		out = append(out, time.Duration((i*37)%100+1)*time.Millisecond)
	}
	return out
}
