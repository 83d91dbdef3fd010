package ui

import "net/http"

// PageCSP is the Content-Security-Policy of every page: no inline script or
// style, no framing (clickjacking), forms post only to orgid. Images may
// come from https too: organizations' logos are their own URLs.
const PageCSP = "default-src 'self'; img-src 'self' https:; frame-ancestors 'none'; form-action 'self'"

// SetPageHeaders sets the safe browser defaults of every response of the
// pages, pages and redirects alike (sign-in, account and portal). Pages hold one-time links and form
// tokens, so nothing is cached and no Referer leaks them.
//
// formTargets are extra form-action sources: Chromium and WebKit check
// form-action against every redirect a form submission leads to, and a
// sign-in form ends in a redirect to the client's redirect_uri
// (w3c/webappsec-csp#8). login passes the origin of the client's redirect URI.
func SetPageHeaders(h http.Header, formTargets ...string) {
	csp := PageCSP
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
