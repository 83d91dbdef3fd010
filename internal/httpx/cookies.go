package httpx

import (
	"net/http"
	"time"
)

// SessionCookieName is the name of the single sign-on cookie of a tenant.
// Cookies are set on Path=/ so each tenant gets its own name; over https
// the __Host- prefix pins the cookie to this host (no Domain, Secure, Path=/).
func SessionCookieName(tenantID string, secure bool) string {
	if secure {
		return "__Host-orgid_session_" + tenantID
	}
	return "orgid_session_" + tenantID
}

// SessionCookie returns the single sign-on cookie carrying sessionID for
// ttl; ttl <= 0 returns a cookie that deletes it.
func SessionCookie(tenantID, sessionID string, ttl time.Duration, secure bool) *http.Cookie {
	c := &http.Cookie{
		Name:     SessionCookieName(tenantID, secure),
		Value:    sessionID,
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
	} else {
		c.Value = ""
		c.MaxAge = -1
	}
	return c
}

// SessionID returns the single sign-on session ID the browser sent, if any.
func SessionID(h http.Header, tenantID string, secure bool) string {
	r := http.Request{Header: h}
	c, err := r.Cookie(SessionCookieName(tenantID, secure))
	if err != nil {
		return ""
	}
	return c.Value
}
