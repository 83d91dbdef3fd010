package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestResolveClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no trusted proxies: the peer, whatever the header says", "198.51.100.1:5000", []string{"203.0.113.9"}, nil, "198.51.100.1"},
		{"untrusted peer: its forwarded header is ignored", "198.51.100.1:5000", []string{"203.0.113.9"}, lb, "198.51.100.1"},
		{"trusted peer: the client it forwarded", "10.1.2.3:5000", []string{"203.0.113.9"}, lb, "203.0.113.9"},
		{"a forged left part is skipped", "10.1.2.3:5000", []string{"6.6.6.6, 203.0.113.9"}, lb, "203.0.113.9"},
		{"chains of trusted proxies", "10.1.2.3:5000", []string{"203.0.113.9, 192.0.2.7", "10.9.9.9"}, lb, "203.0.113.9"},
		{"all hops trusted: the left-most", "10.1.2.3:5000", []string{"10.0.0.5, 10.0.0.6"}, lb, "10.0.0.5"},
		{"no header: the proxy", "10.1.2.3:5000", nil, lb, "10.1.2.3"},
		{"a malformed hop stops the walk", "10.1.2.3:5000", []string{"203.0.113.9, not-an-ip"}, lb, "10.1.2.3"},
		{"IPv4-mapped IPv6 is unmapped", "[::ffff:10.1.2.3]:5000", []string{"::ffff:203.0.113.9"}, lb, "203.0.113.9"},
		{"IPv6 client", "10.1.2.3:5000", []string{"2001:db8::1"}, lb, "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := ResolveClientIP(r, tc.trusted); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientIPPrefersResolved(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5000"
	if got := ClientIP(r); got != "10.1.2.3" {
		t.Errorf("without Info: %q; want the peer", got)
	}
	r = r.WithContext(WithInfo(r.Context(), &Info{ClientIP: "203.0.113.9"}))
	if got := ClientIP(r); got != "203.0.113.9" {
		t.Errorf("with Info: %q; want the resolved address", got)
	}
}
