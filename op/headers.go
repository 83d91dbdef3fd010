package op

import (
	"net/http"
	"strings"
)

// protocolHeaders adds what every protocol response needs and the library
// does not write: Cache-Control: no-store on token-bearing endpoints
// (RFC 6749 §5.1, OIDC Core §5.3.2) and WWW-Authenticate on 401
// (RFC 6749 §5.2 for client authentication, RFC 6750 §3 for bearer tokens).
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

type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
