package limits

import (
	"testing"
	"time"

	"github.com/ordercast/ordercast/internal/testenv"
)

// phase sends events evenly spaced at perSecond for dur; perSecond 0 is
// silence.
type phase struct {
	dur       time.Duration
	perSecond int
}

type eventsRun struct {
	allowed, refused int
	// firstAbusive is when Allow first said abusive, from the start; -1
	// never.
	firstAbusive time.Duration
	// lastAbusive is what the last Allow said.
	lastAbusive bool
}

func runEvents(l *Events, clock *testenv.Clock, phases []phase) eventsRun {
	start := clock.Now()
	r := eventsRun{firstAbusive: -1}
	for _, p := range phases {
		if p.perSecond == 0 {
			clock.Advance(p.dur)
			continue
		}
		step := time.Second / time.Duration(p.perSecond)
		for elapsed := time.Duration(0); elapsed < p.dur; elapsed += step {
			clock.Advance(step)
			ok, abusive := l.Allow()
			if ok {
				r.allowed++
			} else {
				r.refused++
			}
			if r.firstAbusive < 0 && abusive {
				r.firstAbusive = clock.Now().Sub(start)
			}
			r.lastAbusive = abusive
		}
	}
	return r
}

func TestEvents(t *testing.T) {
	const rate, burst = 50, 100
	tests := []struct {
		name   string
		phases []phase
		// allowed is checked within ±tolerance (token refill between
		// evenly spaced events rounds either way).
		allowed   int
		tolerance int
		// abusiveFrom/abusiveTo bound firstAbusive; abusiveFrom -1: never.
		abusiveFrom, abusiveTo time.Duration
	}{
		{name: "a burst of 100 at once is allowed, the 101st refused",
			phases: []phase{{dur: time.Millisecond * 101 / 10, perSecond: 10_000}}, allowed: 100, tolerance: 1, abusiveFrom: -1},
		{name: "at the rate for 10 s: nothing refused",
			phases: []phase{{dur: 10 * time.Second, perSecond: rate}}, allowed: 500, abusiveFrom: -1},
		{name: "after a long silence the bucket holds the burst, not more",
			phases: []phase{{dur: time.Hour}, {dur: time.Millisecond * 200 / 10, perSecond: 10_000}}, allowed: 100, tolerance: 1, abusiveFrom: -1},
		{name: "twice the rate for 10 s: the rate plus the burst get through, never abusive",
			phases: []phase{{dur: 10 * time.Second, perSecond: 2 * rate}}, allowed: 10*rate + burst, tolerance: 2, abusiveFrom: -1},
		{name: "five times the rate for 10 s: limited, never abusive",
			phases: []phase{{dur: 10 * time.Second, perSecond: 5 * rate}}, allowed: 10*rate + burst, tolerance: 2, abusiveFrom: -1},
		{name: "ten times the rate (the contract's abuse level): abusive after 5 s of it",
			// The first second is spent partly on the burst, so the run of
			// abusive seconds starts at 1 s.
			phases:  []phase{{dur: 8 * time.Second, perSecond: 10 * rate}},
			allowed: 8*rate + burst, tolerance: 2, abusiveFrom: 6 * time.Second, abusiveTo: 6*time.Second + 10*time.Millisecond},
		{name: "10,000 events per second: abusive after 5 s",
			phases:  []phase{{dur: 6 * time.Second, perSecond: 10_000}},
			allowed: 6*rate + burst, tolerance: 2, abusiveFrom: 5 * time.Second, abusiveTo: 5*time.Second + time.Millisecond},
		{name: "4 s of flood, a pause, 4 s of flood: the pause ends the run",
			phases:  []phase{{dur: 4 * time.Second, perSecond: 10_000}, {dur: 3 * time.Second}, {dur: 4 * time.Second, perSecond: 10_000}},
			allowed: 8*rate + 2*burst, tolerance: 3, abusiveFrom: -1},
		{name: "4 s of flood, 1 s at the rate, flood again: the calm second ends the run",
			phases: []phase{{dur: 4 * time.Second, perSecond: 10_000}, {dur: time.Second, perSecond: rate},
				{dur: 4500 * time.Millisecond, perSecond: 10_000}},
			allowed: 9*rate + burst + rate/2, tolerance: 60, abusiveFrom: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testenv.NewClock()
			l := NewEvents(rate, burst, clock.Now)
			got := runEvents(l, clock, tt.phases)
			if d := got.allowed - tt.allowed; d < -tt.tolerance || d > tt.tolerance {
				t.Errorf("allowed %d, want %d±%d (refused %d)", got.allowed, tt.allowed, tt.tolerance, got.refused)
			}
			switch {
			case tt.abusiveFrom < 0 && got.firstAbusive >= 0:
				t.Errorf("abusive at %v, want never", got.firstAbusive)
			case tt.abusiveFrom >= 0 && (got.firstAbusive < tt.abusiveFrom || got.firstAbusive > tt.abusiveTo):
				t.Errorf("first abusive at %v, want within [%v, %v]", got.firstAbusive, tt.abusiveFrom, tt.abusiveTo)
			}
		})
	}
}

// A limiter recovers: once the flood stops and the bucket refills, events
// are allowed again and the socket is no longer abusive.
func TestEventsRecovers(t *testing.T) {
	tests := []struct {
		name  string
		flood time.Duration
	}{
		{name: "after 3 s of flood, short of abuse", flood: 3 * time.Second},
		{name: "after 6 s of flood, abusive by then", flood: 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testenv.NewClock()
			l := NewEvents(50, 100, clock.Now)
			runEvents(l, clock, []phase{{dur: tt.flood, perSecond: 10_000}})
			if ok, _ := l.Allow(); ok {
				t.Fatal("allowed right after a flood")
			}
			clock.Advance(2 * time.Second)
			var abusive bool
			for i := range 100 {
				var ok bool
				if ok, abusive = l.Allow(); !ok {
					t.Fatalf("event %d refused after 2 s of silence", i)
				}
			}
			if abusive {
				t.Fatal("abusive after the flood stopped")
			}
		})
	}
}
