package op

import (
	"net/http"
	"strings"
)

// protocolHeaders adds what every protocol response needs and the library
// does not write: Cache-Control: no-store on token-bearing endpoints
// (RFC 6749 §5.1, OIDC Core §5.3.2) and WWW-Authenticate on 401
// (RFC 6749 §5.2 for client authentication, RFC 6750 §3 for bearer tokens),
// and Retry-After on 503.
func protocolHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if strings.HasPrefix(path, "/oauth/") || path == "/userinfo" {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
		}
		challenge := `Basic realm="orgid"`
		if path == "/userinfo" {
			challenge = `Bearer error="invalid_token"`
		}
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: challenge}, r)
	})
}

// RetryAfterSeconds is the Retry-After of a 503: long enough for a pool
// to reconnect or a failover to finish, short enough not to strand
// clients.
const RetryAfterSeconds = "5"

type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w *challengeWriter) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// A store is unreachable (oauthError): tell clients when to come
		// back (RFC 9110 §10.2.3) rather than have them retry at once.
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
