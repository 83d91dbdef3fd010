package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// FuzzTokenEndpoint sends fuzzed form bodies and Authorization headers to
// the real token endpoint (embedded stores, in-process). Whatever arrives,
// orgid never answers 5xx, every refusal is a JSON OAuth error (RFC 6749
// §5.2), and a token is only ever issued to a request that holds one of
// the credentials this test handed out: garbage never gets a 2xx.
//
//	go test ./internal/server -run '^$' -fuzz '^FuzzTokenEndpoint$' -fuzztime 60s -parallel 1
func FuzzTokenEndpoint(f *testing.F) {
	e := newFuzzEnv(f)
	m2mID, m2mSecret := e.m2m(storage.DefaultTenant)
	org := e.organization(f, "Fuzz Corp")
	e.link(f, org.ID, m2mID, storage.RoleAdmin)
	p := e.signUp(f, "fuzz@example.test", "Fuzz")
	secrets := []string{m2mSecret, p.secret, p.refresh, p.access}
	tokenURL := e.issuer(storage.DefaultTenant) + "/oauth/token"
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}

	for _, s := range []struct{ form, authz string }{
		// Valid requests of each grant.
		{"grant_type=client_credentials", basic(m2mID, m2mSecret)},
		{"grant_type=client_credentials&organization_id=" + org.ID, basic(m2mID, m2mSecret)},
		{"grant_type=client_credentials&client_id=" + m2mID + "&client_secret=" + m2mSecret, ""},
		{"grant_type=client_credentials&resource=" + url.QueryEscape(e.issuer(storage.DefaultTenant)+"/api"), basic(m2mID, m2mSecret)},
		{"grant_type=refresh_token&refresh_token=" + p.refresh, basic(p.clientID, p.secret)},
		{"grant_type=refresh_token&organization_id=" + org.ID + "&refresh_token=" + p.refresh, basic(p.clientID, p.secret)},
		// Well-formed but wrong.
		{"grant_type=authorization_code&code=nope&redirect_uri=" + url.QueryEscape(callback) + "&code_verifier=x", basic(p.clientID, p.secret)},
		{"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=" + p.access +
			"&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&organization_id=" + org.ID, basic(p.clientID, p.secret)},
		{"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=eyJhbGciOiJub25lIn0.e30.", basic(p.clientID, p.secret)},
		{"grant_type=client_credentials&client_id=" + m2mID +
			"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c", ""},
		{"grant_type=client_credentials", basic(m2mID, "wrong")},
		{"grant_type=client_credentials&organization_id=org_nope", basic(m2mID, m2mSecret)},
		{"grant_type=client_credentials&scope=openid+%00", basic(m2mID, m2mSecret)},
		{"grant_type=password&username=a&password=b", basic(m2mID, m2mSecret)},
		// Malformed.
		{"", ""},
		{"%", basic(m2mID, m2mSecret)},
		{"grant_type=%zz", ""},
		{"grant_type=client_credentials&grant_type=refresh_token", basic(m2mID, m2mSecret)},
		{"grant_type=client_credentials", "Basic !!!"},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))},
		{"grant_type=client_credentials", "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:%zz"))},
		{"grant_type=client_credentials", "Bearer " + p.access},
		{"grant_type=client_credentials&client_id=" + m2mID, basic(p.clientID, p.secret)},
		{";;;&&&===", "basic"},
	} {
		f.Add(s.form, s.authz, uint16(1))
	}

	h := e.srv.Handler
	f.Fuzz(func(t *testing.T, form, authz string, from uint16) {
		if !validHeaderValue(authz) {
			return
		}
		req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		req.RemoteAddr = fuzzAddr(from)
		rec := serve(h, req)
		what := "POST token form=" + strconvQuote(form) + " Authorization=" + strconvQuote(authz)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s: %d: %s", what, rec.Code, rec.Body)
		case rec.Code >= 400:
			wantOAuthError(t, what, rec)
		case rec.Code >= 200 && rec.Code < 300:
			if !holdsCredential(form, authz, secrets) {
				t.Fatalf("%s: %d without a credential: %s", what, rec.Code, rec.Body)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
				t.Fatalf("%s: %d is not a token response (%v): %s", what, rec.Code, err, rec.Body)
			}
		default:
			t.Fatalf("%s: unexpected status %d: %s", what, rec.Code, rec.Body)
		}
	})
}

// holdsCredential reports whether a token request could carry one of
// secrets: in its form (raw or URL-decoded) or in a Basic Authorization
// header (base64, then URL-decoded per RFC 6749 §2.3.1). It errs on the
// side of yes: its only use is to call a 2xx without any credential a bug.
func holdsCredential(form, authz string, secrets []string) bool {
	seen := []string{form, authz}
	if s, err := url.QueryUnescape(form); err == nil {
		seen = append(seen, s)
	}
	if len(authz) > 6 {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if raw, err := enc.DecodeString(strings.TrimSpace(authz[6:])); err == nil {
				seen = append(seen, string(raw))
				if s, err := url.QueryUnescape(string(raw)); err == nil {
					seen = append(seen, s)
				}
			}
		}
	}
	for _, s := range seen {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				return true
			}
		}
	}
	return false
}

// strconvQuote quotes s for a failure message, shortened: a fuzzer's
// input can be long.
func strconvQuote(s string) string {
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
