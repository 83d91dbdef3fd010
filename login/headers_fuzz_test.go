package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/login/ui"
)

// FuzzRedirectSource: a client's redirect_uri ends up in the
// Content-Security-Policy header of the sign-in pages. Whatever the URI,
// the source expression is empty or one CSP token that cannot add a
// directive or a second source (no space, ';' or ','), is a valid header
// value, never admits a script-capable scheme, and for http(s) is the
// URI's own origin.
func FuzzRedirectSource(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/cb", "https://App.Example.com:8443/cb?x", "http://127.0.0.1:49152/callback",
		"http://[::1]:8080/cb", "com.example.app:/oauth2redirect", "javascript:alert(1)", "JavaScript:alert(1)",
		"data:text/html,x", "https://a.example;script-src *", "https://a b.example/", "", "/relative",
		"https://user@host.example/", "https://a.example,b.example/", "https://%61.example/", "https://a.example:99999/",
		"https://[::1%25eth0]:80/", "x-a;b:/", "https:'self'", "https://'unsafe-inline'/", "HTTPS://A.EXAMPLE",
		"blob:https://a.example/1", "https://a.example\t/", "ws://a.example/", "https://\u00e9.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		src := redirectSource(uri)
		if src == "" {
			return
		}
		if strings.ContainsAny(src, " \t\r\n;,'\"") || strings.ContainsFunc(src, func(r rune) bool { return r > 0x7e || r < 0x21 }) {
			t.Fatalf("redirectSource(%q) = %q: not a single CSP source expression", uri, src)
		}
		h := http.Header{}
		ui.SetPageHeaders(h, src)
		if got := h.Get("Content-Security-Policy"); !strings.HasSuffix(got, "form-action 'self' "+src) {
			t.Fatalf("redirectSource(%q) = %q: CSP %q", uri, src, got)
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("redirectSource(%q) = %q for a URI that does not parse: %v", uri, src, err)
		}
		scheme := strings.ToLower(u.Scheme)
		switch scheme {
		case "javascript", "data", "blob", "filesystem", "about":
			t.Fatalf("redirectSource(%q) = %q admits scheme %s", uri, src, scheme)
		case "http", "https":
			if want := scheme + "://" + strings.ToLower(u.Host); src != want || u.Host == "" {
				t.Fatalf("redirectSource(%q) = %q, want the origin %q", uri, src, want)
			}
		default:
			if src != scheme+":" {
				t.Fatalf("redirectSource(%q) = %q, want the scheme %q", uri, src, scheme+":")
			}
		}
	})
}
