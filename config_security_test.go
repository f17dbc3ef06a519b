package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The security flags: defaults, environment fallbacks, flags winning, and
// refusals of values that would disable a limit by mistake.
func TestSecurityFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(config) bool
		wantErr string
	}{
		{name: "defaults", check: func(c config) bool {
			return c.HTTPRatePerIP == 200 && c.HTTPBurstPerIP == 400 && c.ConnectionsPerIP == 20_000 &&
				c.TrustedProxies == nil && c.WebhookSecret == ""
		}},
		{name: "environment", env: map[string]string{
			"ORDERCAST_HTTP_RATE_PER_IP": "5.5", "ORDERCAST_HTTP_BURST_PER_IP": "9", "ORDERCAST_CONNECTIONS_PER_IP": "7",
			"ORDERCAST_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1", "ORDERCAST_WEBHOOK_SECRET": "s3cret",
		}, check: func(c config) bool {
			return c.HTTPRatePerIP == 5.5 && c.HTTPBurstPerIP == 9 && c.ConnectionsPerIP == 7 &&
				slices.Equal(c.TrustedProxies, []string{"10.0.0.0/8", "192.0.2.1"}) && c.WebhookSecret == "s3cret"
		}},
		{name: "flags win over the environment", env: map[string]string{"ORDERCAST_CONNECTIONS_PER_IP": "7"},
			args:  []string{"--connections-per-ip", "0", "--http-rate-per-ip", "0", "--webhook-secret", "x"},
			check: func(c config) bool { return c.ConnectionsPerIP == 0 && c.HTTPRatePerIP == 0 && c.WebhookSecret == "x" }},
		{name: "negative connection cap", args: []string{"--connections-per-ip", "-1"}, wantErr: "must not be negative"},
		{name: "negative rate", args: []string{"--http-rate-per-ip", "-1"}, wantErr: "must not be negative"},
		{name: "zero burst", args: []string{"--http-burst-per-ip", "0"}, wantErr: "must be positive"},
		{name: "a proxy that is not an address", args: []string{"--trusted-proxies", "proxy.example"}, wantErr: "--trusted-proxies"},
		{name: "a bad environment number", env: map[string]string{"ORDERCAST_CONNECTIONS_PER_IP": "many"}, wantErr: "ORDERCAST_CONNECTIONS_PER_IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"ORDERCAST_HTTP_RATE_PER_IP", "ORDERCAST_HTTP_BURST_PER_IP",
				"ORDERCAST_CONNECTIONS_PER_IP", "ORDERCAST_TRUSTED_PROXIES", "ORDERCAST_WEBHOOK_SECRET"} {
				t.Setenv(k, "") // restored after the test
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := parseServe(append([]string{"--data-dir", t.TempDir()}, tt.args...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}
