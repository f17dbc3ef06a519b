package auth

import (
	"errors"
	"testing"
	"time"
)

// fuzzNow is the fixed clock of the fuzz targets, so that seed tokens
// (issued at this time for one hour) stay valid in testdata.
var fuzzNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const fuzzSecret = "fuzz-signing-secret"

func fuzzSigner() *Signer {
	return NewSigner([]byte(fuzzSecret), func() time.Time { return fuzzNow })
}

// FuzzStaffToken: any string is refused with one of the three credential
// errors, or yields a staff member with a known role and a name; a token
// that verifies under our secret never verifies under another.
func FuzzStaffToken(f *testing.F) {
	s := fuzzSigner()
	other := NewSigner([]byte("another-secret"), func() time.Time { return fuzzNow })
	f.Fuzz(func(t *testing.T, token string) {
		staff, err := s.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrMissing) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			if staff != (Staff{}) {
				t.Fatalf("Verify failed but returned %+v", staff)
			}
			return
		}
		if !ValidRole(staff.Role) || staff.Name == "" {
			t.Fatalf("verified a staff member without role or name: %+v", staff)
		}
		if _, err := other.Verify(token); err == nil {
			t.Fatal("a token verified under two secrets")
		}
	})
}

// FuzzStaffTokenTamper changes one byte of a genuine support token: the
// result is refused, or (when the change falls in bits base64 ignores)
// names the very same staff member. No edit makes Sam an admin or Eve.
func FuzzStaffTokenTamper(f *testing.F) {
	s := fuzzSigner()
	genuine, err := s.Issue("Sam", RoleSupport, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, at uint16, b byte) {
		tok := []byte(genuine)
		i := int(at) % len(tok)
		if tok[i] == b {
			return
		}
		tok[i] = b
		staff, err := s.Verify(string(tok))
		if err == nil && staff != (Staff{Name: "Sam", Role: RoleSupport}) {
			t.Fatalf("tampered token verified as %+v", staff)
		}
	})
}

// FuzzTrackingToken: only the token whose hash is stored matches it; an
// empty token or hash never matches.
func FuzzTrackingToken(f *testing.F) {
	token, hash := "tok-3f9c2a7e51d04b8a", HashTrackingToken("tok-3f9c2a7e51d04b8a")
	key := NewAPIKey("api-key-under-test")
	f.Fuzz(func(t *testing.T, presented string, stored []byte) {
		if CheckTrackingToken(presented, hash) != (presented == token) {
			t.Fatalf("CheckTrackingToken(%q) against the genuine hash", presented)
		}
		if CheckTrackingToken(presented, stored) && (presented == "" || len(stored) == 0) {
			t.Fatal("an empty token or hash matched")
		}
		if key.Match(presented) != (presented == "api-key-under-test") {
			t.Fatalf("APIKey.Match(%q)", presented)
		}
	})
}
