package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// TestOAuthErrorUnavailable: an unreachable store is 503
// temporarily_unavailable with Retry-After at every protocol endpoint,
// with a fixed description (the cause goes to the request's log line),
// and any other internal error is 500 server_error without its text.
func TestOAuthErrorUnavailable(t *testing.T) {
	p := &Provider{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cause := fmt.Errorf("sqlstore: get application: %w: dial tcp 10.0.0.7:5432: connection refused", storage.ErrUnavailable)
	for _, c := range []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{cause, http.StatusServiceUnavailable, "temporarily_unavailable", RetryAfterSeconds},
		{errors.New("pq: relation \"x\" does not exist"), http.StatusInternalServerError, "server_error", ""},
	} {
		info := &httpx.Info{}
		ctx := httpx.WithInfo(context.Background(), info)
		h := protocolHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			zop.WriteError(w, r, p.oauthError(r.Context(), c.err, "test"), nil)
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/oauth/token", nil).WithContext(ctx))
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q", c.err, rec.Body)
		}
		if rec.Code != c.status || body["error"] != c.code || rec.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%v: %d %v, Retry-After %q; want %d %s, Retry-After %q", c.err, rec.Code, body, rec.Header().Get("Retry-After"), c.status, c.code, c.retryAfter)
		}
		if strings.Contains(rec.Body.String(), "10.0.0.7") || strings.Contains(rec.Body.String(), "relation") {
			t.Errorf("%v: the answer leaks the cause: %s", c.err, rec.Body)
		}
		if got := info.Snapshot().Cause; !errors.Is(got, c.err) {
			t.Errorf("%v: cause for the access log = %v", c.err, got)
		}
	}
}
