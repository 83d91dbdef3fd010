package login

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// pageCSP is the Content-Security-Policy of every page: no inline script or
// style, no framing (clickjacking), forms post only to orgid. Images may
// come from https too: organizations' logos are their own URLs.
const pageCSP = "default-src 'self'; img-src 'self' https:; frame-ancestors 'none'; form-action 'self'"

// setPageHeaders sets the safe browser defaults of every response of this
// package, pages and redirects alike. Pages hold one-time links and form
// tokens, so nothing is cached and no Referer leaks them.
//
// formTargets are extra form-action sources: Chromium and WebKit check
// form-action against every redirect a form submission leads to, and a
// sign-in form ends in a redirect to the client's redirect_uri
// (w3c/webappsec-csp#8). Callers pass redirectSource(ar.RedirectURI).
func setPageHeaders(h http.Header, formTargets ...string) {
	csp := pageCSP
	for _, t := range formTargets {
		if t != "" {
			csp += " " + t
		}
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}

var (
	schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)
	hostRE   = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
)

// redirectSource returns the CSP source expression that admits a redirect
// to uri: its origin for http(s), its scheme for a native app's private
// scheme (RFC 8252 §7.1), or "" when uri is not something safe to put in a
// header.
func redirectSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "javascript", "data", "blob", "filesystem", "about":
		return ""
	}
	if !schemeRE.MatchString(scheme) {
		return ""
	}
	if scheme == "http" || scheme == "https" {
		if !hostRE.MatchString(u.Host) {
			return ""
		}
		return scheme + "://" + strings.ToLower(u.Host)
	}
	return scheme + ":"
}
