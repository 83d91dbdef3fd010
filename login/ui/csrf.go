package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/orgid/orgid/internal/secure"
)

// CSRF protection is a signed double submit: the browser holds a random
// cookie, and every form carries HMAC-SHA256(CSRFKey, cookie) in a hidden
// field. A cross-site page can make the browser send the cookie but can
// neither read it nor compute the field, and a cookie planted from a
// sibling host is useless without the key. The cookie is SameSite=Lax as
// a second lock. (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit
// Cookie".)

const (
	csrfCookie = "orgid_csrf"
	// CSRFField is the name of the hidden form field that carries the token.
	CSRFField = "csrf_token"
)

// CSRF issues and checks the form tokens of one set of pages.
type CSRF struct {
	key    []byte
	secure bool // https: Secure cookie with the __Host- prefix
}

// NewCSRF returns the tokens keyed by key (at least 32 bytes, derived from
// the master key by the caller); secure is true when the pages are served
// over https.
func NewCSRF(key []byte, secure bool) CSRF {
	return CSRF{key: append([]byte(nil), key...), secure: secure}
}

// cookieName pins the cookie to this host over https (RFC 6265bis
// __Host- prefix), so that a sibling subdomain cannot plant one.
func (c CSRF) cookieName() string {
	if c.secure {
		return "__Host-" + csrfCookie
	}
	return csrfCookie
}

func (c CSRF) sign(value string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("orgid-csrf-v1\x00"))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token returns the form token for the browser of r, setting a new cookie
// on w when the browser has none (or a malformed one).
func (c CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	value := c.cookieValue(r)
	if value == "" {
		value = secure.Token()
		http.SetCookie(w, &http.Cookie{
			Name:     c.cookieName(),
			Value:    value,
			Path:     "/",
			HttpOnly: true,
			Secure:   c.secure,
			SameSite: http.SameSiteLaxMode,
		})
	}
	return c.sign(value)
}

// Valid reports whether the posted form of r carries the token that
// matches its cookie. r.ParseForm must have run.
func (c CSRF) Valid(r *http.Request) bool {
	value := c.cookieValue(r)
	if value == "" {
		return false
	}
	return secure.EqualString(r.PostForm.Get(CSRFField), c.sign(value))
}

func (c CSRF) cookieValue(r *http.Request) string {
	ck, err := r.Cookie(c.cookieName())
	if err != nil || len(ck.Value) != secure.TokenLen {
		return ""
	}
	return ck.Value
}
