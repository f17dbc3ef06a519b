package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Secrets are the API key and staff-token signing secret in force.
type Secrets struct {
	APIKey string
	Secret string
	// Generated lists what this start created, so the caller can announce it.
	Generated []string
}

// LoadSecrets returns apiKey and secret when set; otherwise it reads them
// from dataDir, generating and keeping any that are missing (mode 0600).
func LoadSecrets(dataDir, apiKey, secret string) (Secrets, error) {
	s := Secrets{APIKey: apiKey, Secret: secret}
	var err error
	if s.APIKey == "" {
		if s.APIKey, err = loadOrCreate(dataDir, "api_key", &s.Generated); err != nil {
			return s, err
		}
	}
	if s.Secret == "" {
		if s.Secret, err = loadOrCreate(dataDir, "secret", &s.Generated); err != nil {
			return s, err
		}
	}
	return s, nil
}

func loadOrCreate(dir, name string, generated *[]string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data dir %s: %w", dir, err)
	}
	v := RandomString(32)
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	*generated = append(*generated, name)
	return v, nil
}

// LoadSigningSecret returns secret when set, else the one kept in dataDir
// (created when missing), as the server would use it.
func LoadSigningSecret(dataDir, secret string) (string, error) {
	if secret != "" {
		return secret, nil
	}
	var generated []string
	return loadOrCreate(dataDir, "secret", &generated)
}
