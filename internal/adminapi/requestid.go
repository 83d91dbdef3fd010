package adminapi

import (
	"context"
	"net/http"
	"regexp"

	"github.com/orgid/orgid/internal/secure"
)

// requestIDRE is what a caller's X-Request-Id may be: short and plain, as
// it lands in logs and the audit log.
var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,128}$`)

type requestIDKey struct{}

// withRequestID takes the caller's X-Request-Id when it is sane, makes one
// otherwise, and echoes it in the response.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			id = secure.ID("req")
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
