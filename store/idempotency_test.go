package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordercast/ordercast/orders"
)

func idemClaim(key, body string, now time.Time) IdemClaim {
	return IdemClaim{
		IdemKey:     IdemKey{Credential: "service:k1", Key: key},
		RequestHash: []byte("hash:" + body),
		ClaimID:     fmt.Sprintf("claim-%d", time.Now().UnixNano()),
		Now:         now,
		Lease:       time.Minute,
		TTL:         24 * time.Hour,
	}
}

func mustClaim(t *testing.T, s storeUnderTest, c IdemClaim, want IdemOutcome) IdemResult {
	t.Helper()
	res, err := s.ClaimIdempotencyKey(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != want {
		t.Fatalf("claim %q: outcome %d, want %d", c.Key, res.Outcome, want)
	}
	return res
}

// idempotencyCases join runConformance: both engines keep Idempotency-Key
// records alike, across instances (processes).
func idempotencyCases() []conformanceCase {
	now := time.Now().UTC()
	return []conformanceCase{
		{"idempotency: claim, replay, mismatch, in progress", func(t *testing.T, open func() storeUnderTest) {
			a, b := open(), open()
			first := idemClaim("k", "body", now)
			mustClaim(t, a, first, IdemClaimed)
			// Another process, while the first holds the lease.
			mustClaim(t, b, idemClaim("k", "body", now.Add(time.Second)), IdemInProgress)
			mustClaim(t, b, idemClaim("k", "other body", now.Add(time.Second)), IdemMismatch)
			// The same key under another credential is another record.
			other := idemClaim("k", "body", now)
			other.Credential = "staff:Sam"
			mustClaim(t, b, other, IdemClaimed)

			body := []byte{0, 1, 2, 0xff, 'x'}
			if err := a.CompleteIdempotencyKey(t.Context(), first.IdemKey, first.ClaimID, 201, body); err != nil {
				t.Fatal(err)
			}
			res := mustClaim(t, b, idemClaim("k", "body", now.Add(time.Hour)), IdemReplay)
			if res.Status != 201 || !bytes.Equal(res.Body, body) {
				t.Fatalf("replay = %d %x, want 201 %x", res.Status, res.Body, body)
			}
			mustClaim(t, b, idemClaim("k", "other body", now.Add(time.Hour)), IdemMismatch)
			// A completed record can't be completed or released again.
			if err := a.CompleteIdempotencyKey(t.Context(), first.IdemKey, first.ClaimID, 500, nil); !errors.Is(err, ErrIdemNotHeld) {
				t.Fatalf("second complete: %v, want ErrIdemNotHeld", err)
			}
			if err := a.ReleaseIdempotencyKey(t.Context(), first.IdemKey, first.ClaimID); !errors.Is(err, ErrIdemNotHeld) {
				t.Fatalf("release after complete: %v, want ErrIdemNotHeld", err)
			}
		}},
		{"idempotency: lease expiry and release free the key", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			dead := idemClaim("crash", "body", now)
			mustClaim(t, s, dead, IdemClaimed)
			mustClaim(t, s, idemClaim("crash", "body", now.Add(59*time.Second)), IdemInProgress)
			// The holder died: after its lease another try takes over ...
			next := idemClaim("crash", "body", now.Add(61*time.Second))
			next.ClaimID = "next"
			mustClaim(t, s, next, IdemClaimed)
			// ... and the dead one can no longer complete it.
			if err := s.CompleteIdempotencyKey(t.Context(), dead.IdemKey, dead.ClaimID, 200, []byte("late")); !errors.Is(err, ErrIdemNotHeld) {
				t.Fatalf("late complete: %v, want ErrIdemNotHeld", err)
			}
			if err := s.ReleaseIdempotencyKey(t.Context(), next.IdemKey, next.ClaimID); err != nil {
				t.Fatal(err)
			}
			mustClaim(t, s, idemClaim("crash", "other body", now.Add(62*time.Second)), IdemClaimed)
		}},
		{"idempotency: expiry and purge in batches", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			for i := range 7 {
				c := idemClaim(fmt.Sprintf("old-%d", i), "b", now)
				c.TTL = time.Hour
				mustClaim(t, s, c, IdemClaimed)
				if i%2 == 0 {
					if err := s.CompleteIdempotencyKey(t.Context(), c.IdemKey, c.ClaimID, 200, []byte("{}")); err != nil {
						t.Fatal(err)
					}
				}
			}
			mustClaim(t, s, idemClaim("fresh", "b", now), IdemClaimed)
			// Expired but not purged yet: as if absent, even for another body.
			mustClaim(t, s, idemClaim("old-0", "new body", now.Add(2*time.Hour)), IdemClaimed)
			var total int
			for range 10 {
				n, err := s.PurgeIdempotencyKeys(t.Context(), now.Add(2*time.Hour-time.Minute), 4)
				if err != nil {
					t.Fatal(err)
				}
				if n > 4 {
					t.Fatalf("purged %d in a batch of 4", n)
				}
				total += n
				if n == 0 {
					break
				}
			}
			if total != 6 { // old-1 … old-6; old-0 was claimed again, fresh is fresh
				t.Fatalf("purged %d, want 6", total)
			}
			mustClaim(t, s, idemClaim("fresh", "b", now.Add(30*time.Second)), IdemInProgress)
			mustClaim(t, s, idemClaim("old-0", "new body", now.Add(2*time.Hour)), IdemInProgress)
		}},
		{"idempotency: concurrent identical requests store one event", func(t *testing.T, open func() storeUnderTest) {
			stores := []storeUnderTest{open(), open()}
			create(t, stores[0], "race", t0)
			var claimed, replayed, inProgress atomic.Int32
			var wg sync.WaitGroup
			for i := range 16 {
				s := stores[i%2]
				wg.Go(func() {
					c := idemClaim("same", `{"status":"confirmed"}`, time.Now())
					c.ClaimID = fmt.Sprintf("try-%d", i)
					res, err := s.ClaimIdempotencyKey(context.Background(), c)
					if err != nil {
						t.Error(err)
						return
					}
					switch res.Outcome {
					case IdemClaimed:
						claimed.Add(1)
						ev, _, err := s.Append(context.Background(), "race", moveTo(orders.Confirmed))
						if err != nil {
							t.Error(err)
							return
						}
						if err := s.CompleteIdempotencyKey(context.Background(), c.IdemKey, c.ClaimID, 200, fmt.Appendf(nil, "%d", ev.Seq)); err != nil {
							t.Error(err)
						}
					case IdemReplay:
						replayed.Add(1)
						if string(res.Body) != "2" {
							t.Errorf("replayed body %q, want seq 2", res.Body)
						}
					case IdemInProgress:
						inProgress.Add(1)
					default:
						t.Errorf("outcome %d", res.Outcome)
					}
				})
			}
			wg.Wait()
			if claimed.Load() != 1 || replayed.Load()+inProgress.Load() != 15 {
				t.Fatalf("claimed %d, replayed %d, in progress %d; want exactly one claim", claimed.Load(), replayed.Load(), inProgress.Load())
			}
			evs, err := stores[1].Events(t.Context(), "race", 0)
			if err != nil || len(evs) != 2 {
				t.Fatalf("events: %d, %v; want the first and one status change", len(evs), err)
			}
		}},
		{"tracking token reissue", func(t *testing.T, open func() storeUnderTest) {
			s := open()
			create(t, s, "tok", t0)
			if o, _, err := s.OrderWithTokenHash(t.Context(), "tok"); err != nil || o.TokenVersion != 1 {
				t.Fatalf("first token version %d, %v; want 1", o.TokenVersion, err)
			}
			v, err := s.ReplaceTrackingToken(t.Context(), "tok", []byte("new hash"))
			if err != nil || v != 2 {
				t.Fatalf("replace: version %d, %v; want 2", v, err)
			}
			o, h, err := open().OrderWithTokenHash(t.Context(), "tok")
			if err != nil || o.TokenVersion != 2 || string(h) != "new hash" || o.LastSeq != 1 {
				t.Fatalf("after replace: version %d, hash %q, lastSeq %d, %v", o.TokenVersion, h, o.LastSeq, err)
			}
			if _, err := s.ReplaceTrackingToken(t.Context(), "nope", []byte("x")); !errors.Is(err, orders.ErrNotFound) {
				t.Fatalf("unknown order: %v, want ErrNotFound", err)
			}
		}},
	}
}
