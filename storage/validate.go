package storage

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// FieldError names the field that is wrong and says why, in words fit for
// an API client or a form.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks an application before it is stored. Redirect URIs are
// later matched exactly, so this is where their scheme policy lives
// (RFC 9700 §2.1, RFC 8252 §7): https anywhere; http only on a loopback
// host; a private-use scheme only for native apps.
func (a Application) Validate() error {
	if n := utf8.RuneCountInString(strings.TrimSpace(a.Name)); n == 0 || n > 200 {
		return &FieldError{"name", "must be 1 to 200 characters"}
	}
	if !a.Type.Valid() {
		return &FieldError{"type", "must be web, spa, native or m2m"}
	}
	switch a.IDTokenAlg {
	case "", "RS256", "ES256", "EdDSA":
	default:
		return &FieldError{"id_token_signed_response_alg", "must be RS256, ES256 or EdDSA"}
	}
	if a.Type == AppM2M {
		if len(a.RedirectURIs) > 0 || len(a.PostLogoutRedirectURIs) > 0 {
			return &FieldError{"redirect_uris", "m2m applications have no redirect URIs"}
		}
	} else if len(a.RedirectURIs) == 0 {
		return &FieldError{"redirect_uris", "at least one redirect URI is required"}
	}
	for _, u := range a.RedirectURIs {
		if err := checkRedirectURI(u, a.Type); err != nil {
			return &FieldError{"redirect_uris", fmt.Sprintf("%q %s", u, err)}
		}
	}
	for _, u := range a.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u, a.Type); err != nil {
			return &FieldError{"post_logout_redirect_uris", fmt.Sprintf("%q %s", u, err)}
		}
	}
	for _, r := range a.TenantRoles {
		if r != TenantRoleAdmin {
			return &FieldError{"tenant_roles", fmt.Sprintf("unknown tenant role %q", r)}
		}
		if a.Type != AppM2M {
			return &FieldError{"tenant_roles", "only m2m applications hold tenant roles"}
		}
	}
	return nil
}

type uriProblem string

func (p uriProblem) Error() string { return string(p) }

func checkRedirectURI(raw string, t ApplicationType) error {
	if len(raw) > 2000 {
		return uriProblem("is too long")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return uriProblem("is not an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return uriProblem("must not contain a fragment")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return uriProblem("has no host")
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return uriProblem("must use https (http is allowed only for 127.0.0.1, [::1] and localhost)")
		}
	default:
		if t != AppNative {
			return uriProblem("must use https (private-use schemes are for native apps)")
		}
		// RFC 8252 §7.1: a private-use scheme is a reverse domain name.
		if !strings.Contains(u.Scheme, ".") {
			return uriProblem("must use a reverse-domain private-use scheme such as com.example.app")
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
