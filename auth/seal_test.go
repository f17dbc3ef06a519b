package auth

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealer(t *testing.T) {
	s, err := NewSealer([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSealer([]byte("another secret"))
	plain := []byte(`{"trackingToken":"tok-123"}`)
	sealed := s.Seal(plain, []byte("service\x00k1"))
	if bytes.Contains(sealed, []byte("tok-123")) {
		t.Fatal("sealed data holds the plain text")
	}
	if got, err := s.Open(sealed, []byte("service\x00k1")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"other context": func() ([]byte, error) { return s.Open(sealed, []byte("service\x00k2")) },
		"other secret":  func() ([]byte, error) { return other.Open(sealed, []byte("service\x00k1")) },
		"truncated":     func() ([]byte, error) { return s.Open(sealed[:10], []byte("service\x00k1")) },
		"tampered": func() ([]byte, error) {
			b := bytes.Clone(sealed)
			b[len(b)-1] ^= 1
			return s.Open(b, []byte("service\x00k1"))
		},
	} {
		if _, err := open(); !errors.Is(err, ErrUnsealable) {
			t.Errorf("%s: %v, want ErrUnsealable", name, err)
		}
	}
	if _, err := NewSealer(nil); err == nil {
		t.Error("NewSealer(nil) succeeded")
	}
}
