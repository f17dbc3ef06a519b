package app

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ordercast/ordercast/auth"
)

// loopback turns a wildcard listen address into one a local client can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// announce prints what a new user needs to try everything at once. It
// prints secrets, so only on a first start or with --demo.
func announce(w io.Writer, addr string, s auth.Secrets, signer *auth.Signer) {
	base := "http://" + loopback(addr)
	tok, err := signer.Issue("Support", auth.RoleSupport, 12*time.Hour)
	if err != nil {
		return
	}
	admin, _ := signer.Issue("Admin", auth.RoleAdmin, 12*time.Hour)
	fmt.Fprintf(w, `
ordercast is starting on %[1]s
  API key:            %[2]s
  staff sign-in:      %[1]s/support#token=%[3]s
  admin dashboard:    %[1]s/admin#token=%[4]s
  try it:
    curl -s -X POST %[1]s/api/orders \
      -H 'Authorization: Bearer %[2]s' -H 'Content-Type: application/json' \
      -d '{"customer":"Ada Lovelace","items":[{"name":"Tea","qty":2}],"total":1250}'
  then open the trackingUrl it returns.

`, base, s.APIKey, tok, admin)
}
