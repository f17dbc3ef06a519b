package limits

import "net"

// Key is the limiter key of a client address (an IP without port). IPv4
// addresses, IPv4-mapped IPv6 included, are their own key. IPv6 addresses
// are keyed by their /64, the block one subscriber usually gets, so
// rotating addresses inside it gains nothing. Anything that does not parse
// as an IP is its own key.
func Key(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
