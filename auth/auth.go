// Package auth holds ordercast's credentials: the shop backend's API key,
// signed staff tokens, per-order tracking tokens, and the secrets behind them.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Staff roles.
const (
	RoleSupport = "support"
	RoleAdmin   = "admin"
)

// Leeway is the clock skew tolerated when checking a staff token's expiry.
const Leeway = time.Second

// Errors a credential check returns; their text is safe to show a client.
var (
	ErrMissing = errors.New("no credential")
	ErrInvalid = errors.New("invalid token")
	ErrExpired = errors.New("token expired")
	ErrRole    = errors.New("unknown role")
)

// Staff is a verified staff member.
type Staff struct {
	Name string
	Role string
}

// IsAdmin reports whether the staff member may see the admin room.
func (s Staff) IsAdmin() bool { return s.Role == RoleAdmin }

type staffClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Signer issues and verifies staff tokens (HS256 JWTs).
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a signer for secret. now may be nil (time.Now).
func NewSigner(secret []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: secret, now: now}
}

// ValidRole reports whether role names a staff role.
func ValidRole(role string) bool { return role == RoleSupport || role == RoleAdmin }

// Issue signs a token for name with role, valid for ttl.
func (s *Signer) Issue(name, role string, ttl time.Duration) (string, error) {
	if !ValidRole(role) {
		return "", fmt.Errorf("issue token for %q: %w", role, ErrRole)
	}
	if name == "" {
		return "", errors.New("issue token: name is empty")
	}
	now := s.now()
	claims := staffClaims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   name,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("sign staff token: %w", err)
	}
	return tok, nil
}

// Verify checks a staff token's signature, expiry and role.
func (s *Signer) Verify(token string) (Staff, error) {
	if token == "" {
		return Staff{}, ErrMissing
	}
	var claims staffClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(s.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Staff{}, ErrExpired
	case err != nil:
		return Staff{}, ErrInvalid
	}
	if !ValidRole(claims.Role) || claims.Subject == "" {
		return Staff{}, ErrInvalid
	}
	return Staff{Name: claims.Subject, Role: claims.Role}, nil
}

// APIKey checks the shop backend's key in constant time.
type APIKey struct{ digest [32]byte }

// NewAPIKey keeps only a digest of key, so comparisons take constant time
// whatever the presented key's length.
func NewAPIKey(key string) APIKey { return APIKey{digest: sha256.Sum256([]byte(key))} }

// Match reports whether presented is the API key.
func (k APIKey) Match(presented string) bool {
	d := sha256.Sum256([]byte(presented))
	return presented != "" && subtle.ConstantTimeCompare(d[:], k.digest[:]) == 1
}

// Fingerprint names the key without revealing it (a prefix of its SHA-256):
// records kept per credential (Idempotency-Key) are kept under it, so a new
// API key starts afresh.
func (k APIKey) Fingerprint() string { return hex.EncodeToString(k.digest[:8]) }

// NewTrackingToken returns a fresh customer token and the hash to store.
func NewTrackingToken() (token string, hash []byte) {
	token = RandomString(24)
	return token, HashTrackingToken(token)
}

// HashTrackingToken is the only form of a tracking token that is stored.
func HashTrackingToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CheckTrackingToken compares a presented token with a stored hash in constant time.
func CheckTrackingToken(token string, hash []byte) bool {
	if token == "" || len(hash) == 0 {
		return false
	}
	return hmac.Equal(HashTrackingToken(token), hash)
}

// RandomString returns n random bytes, base64url encoded.
func RandomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return base64.RawURLEncoding.EncodeToString(b)
}
