package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/storage"
)

// BenchmarkTokenEndpoint measures the token endpoint on the embedded store
// (SQLite + in-process state), calling the real handler without a network
// in between. Access tokens are ES256; the client's ID tokens use the
// algorithm in the sub-benchmark's name.
//
//	go test ./internal/server -run '^$' -bench BenchmarkTokenEndpoint -count 5
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		b.Run("refresh_token/id_token="+alg, func(b *testing.B) { benchRefresh(b, alg) })
		b.Run("authorization_code/id_token="+alg, func(b *testing.B) { benchCode(b, alg) })
	}
}

// benchEnv is a signed-in browser and a web client whose ID tokens use alg.
func benchEnv(b *testing.B, alg string) (*env, *signedIn) {
	e := newEnv(b, embedded)
	clientID, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback, func(a *storage.Application) { a.IDTokenAlg = alg })
	s := &signedIn{e: e, br: e.browser(), rp: e.rp(storage.DefaultTenant, clientID, secret), clientID: clientID, secret: secret, verifier: oauth2.GenerateVerifier()}
	s.br.SignUp(s.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(s.verifier)), "bench@example.test", "benchmark password", "Bench")
	return e, s
}

// tokenRequest calls the token endpoint in-process and decodes the answer.
func tokenRequest(b *testing.B, h http.Handler, tokenURL, clientID, secret string, form url.Values) map[string]any {
	req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("token endpoint: %d %s", rec.Code, rec.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return out
}

func benchRefresh(b *testing.B, alg string) {
	e, s := benchEnv(b, alg)
	_, first, _ := s.exchange(s.code(b), s.clientID, s.secret, s.verifier)
	rt := first["refresh_token"].(string)
	h, tokenURL := e.srv.Handler, s.token()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := tokenRequest(b, h, tokenURL, s.clientID, s.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		rt = out["refresh_token"].(string)
	}
}

func benchCode(b *testing.B, alg string) {
	e, s := benchEnv(b, alg)
	h, tokenURL := e.srv.Handler, s.token()
	form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {callback}, "code_verifier": {s.verifier}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		form.Set("code", s.code(b)) // the authorize round trip is not what is measured
		b.StartTimer()
		tokenRequest(b, h, tokenURL, s.clientID, s.secret, form)
	}
}

// BenchmarkClientCredentials measures client credentials with
// organization_id (an m2m app's organization token) through the real
// handler on the embedded store, in the steady state: the client and its
// access are cached. bench/m2m.sh measures the same over loopback HTTP.
//
//	go test ./internal/server -run '^$' -bench BenchmarkClientCredentials -count 5
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnv(b, embedded)
	clientID, secret := e.m2m(storage.DefaultTenant)
	org := e.organization(b, "Acme Corp")
	e.link(b, org.ID, clientID, storage.RoleAdmin)
	h, tokenURL := e.srv.Handler, e.issuer(storage.DefaultTenant)+"/oauth/token"
	form := url.Values{"grant_type": {"client_credentials"}, "organization_id": {org.ID}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tokenRequest(b, h, tokenURL, clientID, secret, form)
		}
	})
}
