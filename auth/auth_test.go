package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStaffTokens(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := now
	s := NewSigner([]byte("secret-one"), func() time.Time { return clock })
	other := NewSigner([]byte("secret-two"), func() time.Time { return clock })

	support, err := s.Issue("Sam", RoleSupport, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.Issue("Ada", RoleAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	short, _ := s.Issue("Sam", RoleSupport, time.Second)
	forged, _ := other.Issue("Eve", RoleAdmin, time.Hour)
	parts := strings.Split(support, ".")
	tampered := parts[0] + "." + strings.Replace(parts[1], "c3", "YW", 1) + "." + parts[2]

	tests := []struct {
		name    string
		token   string
		at      time.Time
		want    Staff
		wantErr error
	}{
		{"support", support, now, Staff{"Sam", RoleSupport}, nil},
		{"admin", admin, now, Staff{"Ada", RoleAdmin}, nil},
		{"within leeway", short, now.Add(time.Second + 900*time.Millisecond), Staff{"Sam", RoleSupport}, nil},
		{"expired beyond leeway", short, now.Add(3 * time.Second), Staff{}, ErrExpired},
		{"other secret", forged, now, Staff{}, ErrInvalid},
		{"tampered payload", tampered, now, Staff{}, ErrInvalid},
		{"garbage", "not.a.jwt", now, Staff{}, ErrInvalid},
		{"empty", "", now, Staff{}, ErrMissing},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoiYWRtaW4iLCJzdWIiOiJFdmUiLCJleHAiOjk5OTk5OTk5OTl9.", now, Staff{}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = tt.at
			got, err := s.Verify(tt.token)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Verify = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := s.Issue("X", "root", time.Hour); !errors.Is(err, ErrRole) {
		t.Errorf("Issue with role root: %v", err)
	}
}

func TestAPIKey(t *testing.T) {
	k := NewAPIKey("k-123")
	for _, tt := range []struct {
		in   string
		want bool
	}{{"k-123", true}, {"k-124", false}, {"", false}, {"k-123 ", false}, {strings.Repeat("k", 10000), false}} {
		if got := k.Match(tt.in); got != tt.want {
			t.Errorf("Match(%.10q) = %v", tt.in, got)
		}
	}
	if NewAPIKey("").Match("") {
		t.Error("an empty key matched an empty credential")
	}
}

func TestTrackingToken(t *testing.T) {
	tok, hash := NewTrackingToken()
	tok2, hash2 := NewTrackingToken()
	if tok == tok2 || string(hash) == string(hash2) {
		t.Fatal("tokens repeat")
	}
	if strings.Contains(string(hash), tok) || len(hash) != 32 {
		t.Fatal("hash is not a digest")
	}
	if !CheckTrackingToken(tok, hash) || CheckTrackingToken(tok2, hash) || CheckTrackingToken("", hash) || CheckTrackingToken(tok, nil) {
		t.Fatal("CheckTrackingToken")
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadSecrets(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Generated) != 2 || first.APIKey == "" || first.Secret == "" {
		t.Fatalf("first start: %+v", first)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi, err)
	}
	again, err := LoadSecrets(dir, "", "")
	if err != nil || again.APIKey != first.APIKey || again.Secret != first.Secret || len(again.Generated) != 0 {
		t.Fatalf("second start: %+v %v", again, err)
	}
	given, _ := LoadSecrets(dir, "mine", "")
	if given.APIKey != "mine" || given.Secret != first.Secret {
		t.Fatalf("configured key: %+v", given)
	}
	sec, _ := LoadSigningSecret(dir, "")
	if sec != first.Secret {
		t.Fatal("token command would sign with another secret")
	}
}
