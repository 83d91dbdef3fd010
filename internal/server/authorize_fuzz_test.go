package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// FuzzAuthorize sends fuzzed queries to the real authorization endpoint
// (embedded stores, in-process, no session). Whatever the query, orgid
// never answers 5xx, and it redirects only to its own pages or to a
// redirect URI registered for the client, compared exactly (RFC 6749
// §3.1.2.3, OIDC Core §3.1.2.1): an unknown client or an unregistered
// redirect_uri is an error shown to the user, never a redirect (RFC 6749
// §4.1.2.1, which forbids redirecting to an unverified URI).
//
//	go test ./internal/server -run '^$' -fuzz '^FuzzAuthorize$' -fuzztime 60s -parallel 1
func FuzzAuthorize(f *testing.F) {
	e := newFuzzEnv(f)
	web, _ := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	const native = "com.example.app:/oauth2redirect"
	spa, _ := e.app(storage.DefaultTenant, storage.AppSPA, "http://127.0.0.1:9/spa")
	app, _ := e.app(storage.DefaultTenant, storage.AppNative, native)
	registered := map[string]bool{callback: true, "http://127.0.0.1:9/spa": true, native: true}
	authorizeURL := e.issuer(storage.DefaultTenant) + "/authorize"
	own, _ := url.Parse(e.ts.URL)

	challenge := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 Appendix B
	for _, q := range []url.Values{
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid profile email"}, "state": {"s"}, "nonce": {"n"}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid organizations offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "prompt": {"consent"}},
		{"client_id": {spa}, "redirect_uri": {"http://127.0.0.1:9/spa"}, "response_type": {"code"}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}},
		{"client_id": {app}, "redirect_uri": {native}, "response_type": {"code"}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "prompt": {"none"}, "max_age": {"0"}, "organization_id": {"org_x"}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"token id_token"}, "scope": {"openid"}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"email"}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "request": {"eyJhbGciOiJub25lIn0.e30."}},
		{"client_id": {web}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "max_age": {"-1"}, "ui_locales": {"xx"}},
		{"client_id": {web}, "redirect_uri": {"http://evil.example/cb"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {web}, "redirect_uri": {callback + "/../evil"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {web}, "redirect_uri": {callback + "?x=1"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {web}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {"nope"}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}},
		{"redirect_uri": {callback}},
		{},
	} {
		f.Add(q.Encode())
	}
	f.Add("client_id=" + web + "&client_id=nope&redirect_uri=" + url.QueryEscape(callback) + "&response_type=code&scope=openid")
	f.Add("%zz&client_id=" + web)
	f.Add("client_id=" + web + "&redirect_uri=HTTP://127.0.0.1:9/cb&response_type=code&scope=openid")

	h := e.srv.Handler
	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsAny(query, "# \t\r\n") || !validHeaderValue(query) {
			return // not something a request line can carry
		}
		req := httptest.NewRequest(http.MethodGet, authorizeURL+"?"+query, nil)
		rec := serve(h, req)
		what := "GET authorize?" + strconvQuote(query)
		if rec.Code >= 500 {
			t.Fatalf("%s: %d: %s", what, rec.Code, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if rec.Code < 300 || rec.Code >= 400 {
			if loc != "" {
				t.Fatalf("%s: %d with Location %q", what, rec.Code, loc)
			}
			return
		}
		to, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("%s: %d to a Location that does not parse: %q", what, rec.Code, loc)
		}
		to = req.URL.ResolveReference(to)
		if to.Scheme == own.Scheme && to.Host == own.Host && strings.HasPrefix(to.Path, "/t/"+storage.DefaultTenant+"/") {
			return // a page of orgid's (sign-in, consent)
		}
		target := *to
		target.RawQuery, target.Fragment, target.RawFragment = "", "", ""
		if !registered[target.String()] {
			t.Fatalf("%s: %d redirects to %q, which is neither orgid's nor a registered redirect URI", what, rec.Code, loc)
		}
		// The client must be told something: a code or an error (RFC
		// 6749 §4.1.2, §4.1.2.1), in the query or the fragment.
		params := to.Query()
		if frag, err := url.ParseQuery(to.Fragment); err == nil && params.Get("code") == "" && params.Get("error") == "" {
			params = frag
		}
		if params.Get("code") == "" && !oauthErrorCodes[params.Get("error")] {
			t.Fatalf("%s: %d redirects to the client with neither a code nor a known error: %q", what, rec.Code, loc)
		}
	})
}
