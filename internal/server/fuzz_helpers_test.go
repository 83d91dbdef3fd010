package server_test

import (
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/server"
)

// Helpers shared by the fuzz targets of this package: they call the real
// handler in-process (no network between), so that an iteration costs a
// handler call, not a connection.

// newFuzzEnv is orgid on the embedded stores for a fuzz target. The
// token endpoint's rate limits stay on, so that their reading of the body
// is fuzzed too, but high enough never to refuse: with the clock
// standing still a bucket never refills, and every later iteration would
// be the same 429. While fuzzing (not when the seeds run as tests) the
// log is dropped, as hours of requests would fill the test's log buffers.
func newFuzzEnv(f *testing.F) *env {
	f.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	store, eph, advance := embedded.open(f, clock)
	return newEnvWith(f, clock, store, eph, advance, func(o *server.Options) {
		const generous = "1000000/s burst 1000000"
		o.Config.TokenRateLimitClient, o.Config.TokenRateLimitIP = generous, generous
		r := config.Rate{PerSecond: 1e6, Burst: 1e6}
		o.Config.TokenRateClient, o.Config.TokenRateIP = r, r
		if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
			o.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// validHeaderValue reports whether v can travel in an HTTP header: Go's
// server (and any proxy before it) refuses control characters other than
// tab, so a fuzzed value holding one never reaches a handler.
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; b != '\t' && (b < 0x20 || b == 0x7f) {
			return false
		}
	}
	return true
}

// fuzzAddr spreads fuzzed requests over loopback addresses, so that a
// per-IP limit does not turn every later iteration into the same 429.
func fuzzAddr(n uint16) string {
	return "127.0." + strconv.Itoa(int(n>>8)) + "." + strconv.Itoa(int(n&0xff)) + ":40000"
}

// serve calls h with req and returns the recorded answer.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// oauthErrorCodes are the error codes an OAuth endpoint of orgid may
// answer with: RFC 6749 §4.1.2.1 and §5.2, RFC 8693 §2.2.2 (invalid_target),
// RFC 6749 §4.1.2.1's temporarily_unavailable for outages, and the OIDC
// Core §3.1.2.6 codes of the authorization endpoint.
var oauthErrorCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "invalid_target": true, "access_denied": true,
	"unsupported_response_type": true, "temporarily_unavailable": true,
	"interaction_required": true, "login_required": true, "account_selection_required": true, "consent_required": true,
	"invalid_request_uri": true, "invalid_request_object": true, "request_not_supported": true,
	"request_uri_not_supported": true, "registration_not_supported": true,
	"too_many_requests": true, // orgid's rate limit (op/limits.go)
}

// wantOAuthError fails unless rec is a JSON OAuth error (RFC 6749 §5.2):
// a JSON object whose error is a known code.
func wantOAuthError(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: %d with Content-Type %q, want a JSON OAuth error: %s", what, rec.Code, ct, rec.Body)
	}
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !oauthErrorCodes[body.Error] {
		t.Fatalf("%s: %d is not an OAuth error (error %q, %v): %s", what, rec.Code, body.Error, err, rec.Body)
	}
	if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
		t.Fatalf("%s: 429 without Retry-After", what)
	}
}
