package httpx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r: the one the
// outermost middleware resolved (see ResolveClientIP), or else the TCP
// peer's.
func ClientIP(r *http.Request) string {
	if i := RequestInfo(r.Context()); i != nil && i.ClientIP != "" {
		return i.ClientIP
	}
	return peerIP(r)
}

// ResolveClientIP returns the client's address. Without trusted proxies it
// is the TCP peer: forwarded headers are anyone's to write. When the peer
// is a trusted proxy (a load balancer in front of the replicas), the
// client is the right-most X-Forwarded-For address that is not itself a
// trusted proxy: every proxy appends the address it received the request
// from, so addresses to the left of the last untrusted one may be forged
// by the client (the X-Forwarded-For algorithm of MDN and of nginx's
// real_ip_recursive).
func ResolveClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerIP(r)
	if len(trusted) == 0 || !isTrusted(peer, trusted) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	var chain []string
	for _, h := range hops {
		for _, a := range strings.Split(h, ",") {
			chain = append(chain, strings.TrimSpace(a))
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(chain[i])
		if err != nil {
			// A malformed hop: what is left of it cannot be trusted either,
			// and the last trusted proxy is the best we know.
			return peer
		}
		if s := a.Unmap().String(); !isTrusted(s, trusted) {
			return s
		}
		peer = a.Unmap().String()
	}
	return peer
}

func isTrusted(ip string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
