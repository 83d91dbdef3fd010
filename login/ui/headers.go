package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

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

// WritePage executes template name of t with data into a buffer and only
// then writes it with status and the page headers, so that a template
// fault is a clean 500 (“Something went wrong”), never half a page. The
// fault is returned for the caller to log.
func WritePage(w http.ResponseWriter, t *template.Template, name string, status int, data any, formTargets ...string) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		SetPageHeaders(w.Header())
		http.Error(w, "Something went wrong. Please try again.", http.StatusInternalServerError)
		return err
	}
	SetPageHeaders(w.Header(), formTargets...)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
	return nil
}

// ExternalURL parses the public base URL the pages are served under: an
// absolute http(s) URL.
func ExternalURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return u, nil
}
