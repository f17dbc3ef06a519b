package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts what ordercast keeps at rest that may hold a tracking
// token (the kept responses of Idempotency-Key requests), with AES-256-GCM
// under a key derived from the signing secret by HKDF-SHA256: the same
// secret gives every process the same key, and nothing else is kept.
type Sealer struct{ aead cipher.AEAD }

// sealInfo separates this key from any other use of the secret.
const sealInfo = "ordercast idempotency responses v1"

// NewSealer derives the sealing key from secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) == 0 {
		return nil, errors.New("sealer: empty secret")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("sealer: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain, bound to context (e.g. the record's credential and
// key, so that a sealed body can't be moved to another record).
func (s *Sealer) Seal(plain, context []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on Linux
	return s.aead.Seal(nonce, nonce, plain, context)
}

// ErrUnsealable is returned for data that was not sealed by this secret
// with this context (e.g. after the secret changed).
var ErrUnsealable = errors.New("sealed data cannot be opened with this secret")

// Open decrypts what Seal returned for the same context.
func (s *Sealer) Open(sealed, context []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrUnsealable
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], context)
	if err != nil {
		return nil, ErrUnsealable
	}
	return plain, nil
}
