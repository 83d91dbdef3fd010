package httpx

import (
	"net"
	"net/http"
)

// ClientIP returns the address of the peer that sent r. Forwarded headers
// are not trusted: a reverse proxy deployment sets the peer address itself.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
