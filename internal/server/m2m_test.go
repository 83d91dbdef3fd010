package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// The m2m tests (DESIGN §3, way 4) ask for tokens with
// golang.org/x/oauth2/clientcredentials, as a real service would.

// m2mWorld is a tenant with three organizations and an m2m application
// linked to two of them with different roles.
type m2mWorld struct {
	e                     *env
	clientID, secret      string
	acme, globex, initech storage.Organization
}

// organization creates an organization of the default tenant in the store.
func (e *env) organization(t testing.TB, name string) storage.Organization {
	t.Helper()
	o := storage.Organization{
		TenantID: storage.DefaultTenant, ID: secure.ID("org"), Name: name, Slug: secure.Slug(name),
		ProviderID: secure.ID("prv"), MFAPolicy: "configured", CreatedAt: e.clock.Now(),
	}
	if err := e.srv.Store.CreateOrganization(e.ctx, o); err != nil {
		t.Fatal(err)
	}
	return o
}

// link links an application to an organization with roles.
func (e *env) link(t testing.TB, orgID, clientID string, roles ...string) {
	t.Helper()
	if err := e.srv.Store.LinkApplication(e.ctx, storage.ApplicationLink{
		TenantID: storage.DefaultTenant, OrganizationID: orgID, ClientID: clientID, Roles: roles, CreatedAt: e.clock.Now(),
	}); err != nil {
		t.Fatalf("link %s to %s: %v", clientID, orgID, err)
	}
}

func newM2MWorld(t testing.TB, e *env) *m2mWorld {
	t.Helper()
	w := &m2mWorld{e: e}
	w.clientID, w.secret = e.m2m(storage.DefaultTenant)
	w.acme = e.organization(t, "Acme Corp")
	w.globex = e.organization(t, "Globex")
	w.initech = e.organization(t, "Initech")
	if err := e.srv.Store.CreatePermission(e.ctx, storage.Permission{TenantID: storage.DefaultTenant, Name: "read:invoices", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store.CreateRole(e.ctx, storage.Role{TenantID: storage.DefaultTenant, ID: secure.ID("rol"), OrganizationID: w.globex.ID,
		Name: "accountant", Permissions: []string{"read:invoices"}, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	e.link(t, w.acme.ID, w.clientID, storage.RoleAdmin)
	e.link(t, w.globex.ID, w.clientID, storage.RoleMember, "accountant")
	return w
}

// cc is a client credentials client of the default tenant.
func (e *env) cc(clientID, secret string, params url.Values, scopes ...string) *clientcredentials.Config {
	style := oauth2.AuthStyleInHeader
	if secret == "" {
		style = oauth2.AuthStyleInParams // client_id in the form; a client assertion in params
	}
	return &clientcredentials.Config{
		ClientID: clientID, ClientSecret: secret, TokenURL: e.issuer(storage.DefaultTenant) + "/oauth/token",
		Scopes: scopes, EndpointParams: params, AuthStyle: style,
	}
}

func (e *env) ccCtx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.ts.Client())
}

// fetch asks for a token; on refusal it returns the status and raw body.
func (e *env) fetch(t testing.TB, c *clientcredentials.Config) (*oauth2.Token, int, string) {
	t.Helper()
	tok, err := c.Token(e.ccCtx())
	if err == nil {
		return tok, http.StatusOK, ""
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("token request: %v", err)
	}
	return nil, re.Response.StatusCode, string(re.Body)
}

// mustToken asks for a token and fails the test on refusal.
func (e *env) mustToken(t testing.TB, c *clientcredentials.Config) *oauth2.Token {
	t.Helper()
	tok, status, body := e.fetch(t, c)
	if tok == nil {
		t.Fatalf("token request with %v: %d %s", c.EndpointParams, status, body)
	}
	return tok
}

// wantRefusal fails unless the answer is status with error code.
func wantRefusal(t testing.TB, status int, body string, wantStatus int, code string) {
	t.Helper()
	var b map[string]any
	json.Unmarshal([]byte(body), &b)
	if status != wantStatus || b["error"] != code {
		t.Fatalf("got %d %s, want %d error=%s", status, body, wantStatus, code)
	}
}

// verifiedClaims checks an access token's signature against the tenant's
// JWKS with go-oidc's key set, as a resource server would, and returns
// its claims.
func (e *env) verifiedClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), e.ts.Client())
	payload, err := oidc.NewRemoteKeySet(ctx, e.issuer(storage.DefaultTenant)+"/jwks").VerifySignature(ctx, token)
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if h, _ := e2etest.DecodeJWT(t, token); h["typ"] != "at+jwt" {
		t.Errorf("access token typ = %v", h["typ"])
	}
	return c
}

func orgParams(orgID string, extra ...string) url.Values {
	v := url.Values{"organization_id": {orgID}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Add(extra[i], extra[i+1])
	}
	return v
}

var memberPerms = []string{"read:members", "read:organization", "read:roles"}

// checkOrgToken fails unless token is an organization token of clientID
// for org with roles and scope.
func (w *m2mWorld) checkOrgToken(t testing.TB, tok *oauth2.Token, clientID string, org storage.Organization, aud string, roles, scope []string) {
	t.Helper()
	c := w.e.verifiedClaims(t, tok.AccessToken)
	if aud == "" {
		aud = "urn:orgid:organization:" + org.ID
	}
	var gotScope []string
	if s, ok := c["scope"].(string); ok {
		gotScope = strings.Fields(s)
	}
	if c["sub"] != clientID || c["client_id"] != clientID || c["organization_id"] != org.ID || c["iss"] != w.e.issuer(storage.DefaultTenant) ||
		!slices.Equal(strs(c["aud"]), []string{aud}) || !slices.Equal(sorted(strs(c["organization_roles"])), sorted(roles)) ||
		!slices.Equal(sorted(gotScope), sorted(scope)) || c["jti"] == "" {
		t.Errorf("organization token for %s: %v", org.Name, c)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken != "" {
		t.Errorf("token response: type %q, refresh token %q", tok.TokenType, tok.RefreshToken)
	}
}

// TestM2MOrganizationTokens: a linked application gets an organization
// token for each organization it is linked to, with that link's roles and
// their permissions; an unlinked and a nonexistent organization get one
// and the same 403; an unlink or a role change holds at the next request
// once the cache's second has passed.
func TestM2MOrganizationTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newM2MWorld(t, e)
		adminPerms := storage.BuiltinRoles[1].Permissions

		tok := e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.acme, "", []string{"admin"}, adminPerms)
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.globex.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.globex, "", []string{"member", "accountant"}, append([]string{"read:invoices"}, memberPerms...))

		// Requested scopes narrow the permissions; one the roles do not
		// grant is left out, not refused.
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.globex.ID), "read:invoices", "write:members"))
		w.checkOrgToken(t, tok, w.clientID, w.globex, "", []string{"member", "accountant"}, []string{"read:invoices"})
		if !slices.Equal(strings.Fields(tok.Extra("scope").(string)), []string{"read:invoices"}) {
			t.Errorf("response scope = %v", tok.Extra("scope"))
		}

		// A resource (RFC 8707) becomes the audience.
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID, "resource", "https://invoices.example.test/")))
		w.checkOrgToken(t, tok, w.clientID, w.acme, "https://invoices.example.test/", []string{"admin"}, adminPerms)
		// ...but never the management API.
		_, status, body := e.fetch(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID, "resource", e.issuer(storage.DefaultTenant)+"/api")))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_target")

		// Not linked and no such organization: one answer, the users' one.
		_, s1, unlinked := e.fetch(t, e.cc(w.clientID, w.secret, orgParams(w.initech.ID)))
		_, s2, missing := e.fetch(t, e.cc(w.clientID, w.secret, orgParams("org_doesnotexist")))
		if s1 != http.StatusForbidden || s2 != http.StatusForbidden || unlinked != missing || !strings.Contains(unlinked, `"access_denied"`) {
			t.Fatalf("unlinked: %d %s\nnonexistent: %d %s", s1, unlinked, s2, missing)
		}
		p := e.signUp(t, "ada@example.test", "Ada")
		if s, ub := p.orgToken(t, w.initech.ID); s != http.StatusForbidden || mustJSONString(t, ub) != mustJSONString(t, jsonBody(t, unlinked)) {
			t.Errorf("a user's refusal differs from the application's: %d %v vs %s", s, ub, unlinked)
		}

		// A role change and an unlink hold within a second on this replica
		// without being told (the same wait every replica has).
		if err := e.srv.Store.SetApplicationLinkRoles(e.ctx, storage.DefaultTenant, w.globex.ID, w.clientID, []string{"accountant"}); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Store.UnlinkApplication(e.ctx, storage.DefaultTenant, w.acme.ID, w.clientID); err != nil {
			t.Fatal(err)
		}
		e.advance(1100 * time.Millisecond)
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.globex.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.globex, "", []string{"accountant"}, []string{"read:invoices"})
		_, status, body = e.fetch(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID)))
		if status != http.StatusForbidden || body != missing {
			t.Fatalf("after unlinking: %d %s", status, body)
		}
		// A new link works at once: refusals are not cached.
		e.link(t, w.initech.ID, w.clientID, storage.RoleBillingManager)
		tok = e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.initech.ID)))
		w.checkOrgToken(t, tok, w.clientID, w.initech, "", []string{"billing_manager"}, storage.BuiltinRoles[3].Permissions)
	})
}

func jsonBody(t testing.TB, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return m
}

// countingStore counts the reads of applications a token request makes.
type countingStore struct {
	storage.Store
	apps, access atomic.Int64
}

func (s *countingStore) GetApplication(ctx context.Context, tenantID, clientID string) (storage.Application, error) {
	s.apps.Add(1)
	return s.Store.GetApplication(ctx, tenantID, clientID)
}

func (s *countingStore) GetApplicationAccess(ctx context.Context, tenantID, orgID, clientID string) (storage.ApplicationAccess, error) {
	s.access.Add(1)
	return s.Store.GetApplicationAccess(ctx, tenantID, orgID, clientID)
}

// TestM2MHotPath: an organization token request reads the store once when
// its cache entry is older than a second, and not at all within it.
func TestM2MHotPath(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(time.Now().Truncate(time.Second))
		store, eph, advance := b.open(t, clock)
		cs := &countingStore{Store: store}
		e := newEnvWith(t, clock, cs, eph, advance)
		w := newM2MWorld(t, e)
		c := e.cc(w.clientID, w.secret, orgParams(w.acme.ID))
		reads := func() (int64, int64) { return cs.apps.Swap(0), cs.access.Swap(0) }
		e.mustToken(t, c)
		e.advance(1100 * time.Millisecond)
		reads()
		e.mustToken(t, c)
		if apps, access := reads(); apps != 0 || access != 1 {
			t.Errorf("a request after the cache's second read %d applications and %d accesses, want 0 and 1", apps, access)
		}
		for range 5 {
			e.mustToken(t, c)
		}
		if apps, access := reads(); apps != 0 || access != 0 {
			t.Errorf("requests within the cache's second read %d applications and %d accesses, want none", apps, access)
		}
	})
}

// TestM2MTargets: a client credentials token must say what it is for.
func TestM2MTargets(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		id, secret := e.m2m(storage.DefaultTenant)
		api := e.issuer(storage.DefaultTenant) + "/api"

		_, status, body := e.fetch(t, e.cc(id, secret, nil))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_target")
		_, status, body = e.fetch(t, e.cc(id, secret, url.Values{"resource": {"https://a.example.test", "https://b.example.test"}}))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_target")
		_, status, body = e.fetch(t, e.cc(id, secret, url.Values{"resource": {"not a uri"}}))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_target")

		// Another resource: a token for it, for the client, with no scope.
		tok := e.mustToken(t, e.cc(id, secret, url.Values{"resource": {"https://reports.example.test"}}))
		c := e.verifiedClaims(t, tok.AccessToken)
		if c["sub"] != id || c["client_id"] != id || !slices.Equal(strs(c["aud"]), []string{"https://reports.example.test"}) || c["scope"] != nil || c["organization_id"] != nil {
			t.Errorf("resource token: %v", c)
		}
		_, status, body = e.fetch(t, e.cc(id, secret, url.Values{"resource": {"https://reports.example.test"}}, "read:reports"))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_scope")

		// The management API: only for the tenant role admin.
		_, status, body = e.fetch(t, e.cc(id, secret, url.Values{"resource": {api}}))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_target")
		adminID, adminSecret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
		tok = e.mustToken(t, e.cc(adminID, adminSecret, url.Values{"resource": {api}}))
		if c := e.verifiedClaims(t, tok.AccessToken); c["scope"] != "management" || !slices.Equal(strs(c["aud"]), []string{api}) {
			t.Errorf("management token: %v", c)
		}
		_, status, body = e.fetch(t, e.cc(adminID, adminSecret, url.Values{"resource": {api}}, "management", "read:members"))
		wantRefusal(t, status, body, http.StatusBadRequest, "invalid_scope")
	})
}

// TestGrantsByKind: each kind of application may use only its grants
// (DESIGN §1); any other is 400 unauthorized_client.
func TestGrantsByKind(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newM2MWorld(t, e)
		token := e.issuer(storage.DefaultTenant) + "/oauth/token"
		webID, webSecret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
		spaID, _ := e.app(storage.DefaultTenant, storage.AppSPA, callback)
		nativeID, _ := e.app(storage.DefaultTenant, storage.AppNative, "com.example.app:/callback")

		// Client credentials for the kinds that act for users, through the
		// library a service would use.
		for _, c := range []struct{ kind, id, secret string }{{"web", webID, webSecret}, {"spa", spaID, ""}, {"native", nativeID, ""}} {
			t.Run(c.kind+" client_credentials", func(t *testing.T) {
				_, status, body := e.fetch(t, e.cc(c.id, c.secret, orgParams(w.acme.ID)))
				wantRefusal(t, status, body, http.StatusBadRequest, "unauthorized_client")
				_, status, body = e.fetch(t, e.cc(c.id, c.secret, url.Values{"resource": {"https://reports.example.test"}}))
				wantRefusal(t, status, body, http.StatusBadRequest, "unauthorized_client")
			})
		}
		// The user grants for an m2m application.
		for _, form := range []url.Values{
			{"grant_type": {"authorization_code"}, "code": {"g.c"}, "redirect_uri": {callback}},
			{"grant_type": {"refresh_token"}, "refresh_token": {"g.r"}},
			{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {"a.b.c"},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "organization_id": {w.acme.ID}},
		} {
			t.Run("m2m "+form.Get("grant_type"), func(t *testing.T) {
				status, body, _ := e.postForm(token, w.clientID, w.secret, form)
				wantError(t, status, body, http.StatusBadRequest, "unauthorized_client")
			})
		}
		// The jwt-bearer grant (identity tokens) is for user-facing apps only.
		status, body, _ := e.postForm(token, w.clientID, w.secret, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}})
		wantError(t, status, body, http.StatusBadRequest, "unauthorized_client")
		status, body, _ = e.postForm(token, webID, webSecret, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}})
		wantError(t, status, body, http.StatusBadRequest, "invalid_grant")
		// An m2m application has no authorization requests either.
		q := url.Values{"client_id": {w.clientID}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {callback}}
		resp, _ := e.browser().Get(e.issuer(storage.DefaultTenant) + "/authorize?" + q.Encode())
		if resp.StatusCode == http.StatusOK || strings.Contains(resp.Header.Get("Location"), "code=") {
			t.Errorf("/authorize for an m2m application: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestM2MClientAuthentication: a wrong secret, an unknown client and a
// rotated-out secret are one 401 invalid_client.
func TestM2MClientAuthentication(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newM2MWorld(t, e)
		e.mustToken(t, e.cc(w.clientID, w.secret, orgParams(w.acme.ID)))

		_, s1, wrong := e.fetch(t, e.cc(w.clientID, "not-the-secret", orgParams(w.acme.ID)))
		_, s2, unknown := e.fetch(t, e.cc("cli_nobody", "whatever", orgParams(w.acme.ID)))
		// An unauthenticated caller learns nothing about links either.
		_, s3, unlinked := e.fetch(t, e.cc(w.clientID, "not-the-secret", orgParams(w.initech.ID)))
		wantRefusal(t, s1, wrong, http.StatusUnauthorized, "invalid_client")
		if s2 != s1 || s3 != s1 || unknown != wrong || unlinked != wrong {
			t.Errorf("refusals differ:\nwrong secret %d %s\nunknown client %d %s\nunlinked, wrong secret %d %s", s1, wrong, s2, unknown, s3, unlinked)
		}

		// Rotation: the old secret is dead on every replica within a second.
		newSecret := secure.Token()
		if err := e.srv.Store.SetApplicationSecret(e.ctx, storage.DefaultTenant, w.clientID, secure.Hash(newSecret)); err != nil {
			t.Fatal(err)
		}
		e.advance(1100 * time.Millisecond)
		for _, params := range []url.Values{orgParams(w.acme.ID), {"resource": {"https://reports.example.test"}}} {
			_, status, body := e.fetch(t, e.cc(w.clientID, w.secret, params))
			wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
			e.mustToken(t, e.cc(w.clientID, newSecret, params))
		}
	})
}

// clientKey is a key pair of an application that uses private_key_jwt.
type clientKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv crypto.Signer
}

func newClientKey(t testing.TB, alg jose.SignatureAlgorithm) clientKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{alg: alg, kid: secure.ID("kid"), priv: priv}
}

func jwksOf(t testing.TB, keys ...clientKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertion signs a client assertion (RFC 7523 §3) with claims.
func (k clientKey) assertion(t testing.TB, claims jwt.Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertionParams(assertion string, extra url.Values) url.Values {
	v := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// TestPrivateKeyJWT: an application with a JWKS authenticates with a
// signed client assertion, each one once, and never with a secret.
func TestPrivateKeyJWT(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newM2MWorld(t, e)
		keys := []clientKey{newClientKey(t, jose.ES256), newClientKey(t, jose.RS256), newClientKey(t, jose.PS256), newClientKey(t, jose.EdDSA)}
		secret := secure.Token()
		id, _ := e.app(storage.DefaultTenant, storage.AppM2M, "", func(a *storage.Application) {
			a.RedirectURIs, a.PostLogoutRedirectURIs = nil, nil
			a.JWKS = jwksOf(t, keys...)
			a.SecretHash = secure.Hash(secret) // must not be usable
		})
		e.link(t, w.acme.ID, id, storage.RoleMember)
		iss := e.issuer(storage.DefaultTenant)
		tokenURL := iss + "/oauth/token"
		claims := func() jwt.Claims {
			now := e.clock.Now()
			return jwt.Claims{Issuer: id, Subject: id, Audience: jwt.Audience{tokenURL}, ID: secure.ID("jti"),
				IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute))}
		}

		doc := discovery(t, e)
		if !slices.Contains(strs(doc["token_endpoint_auth_methods_supported"]), "private_key_jwt") ||
			!slices.Equal(sorted(strs(doc["token_endpoint_auth_signing_alg_values_supported"])), []string{"ES256", "EdDSA", "PS256", "RS256"}) {
			t.Errorf("discovery: %v %v", doc["token_endpoint_auth_methods_supported"], doc["token_endpoint_auth_signing_alg_values_supported"])
		}

		for _, k := range keys {
			t.Run(string(k.alg), func(t *testing.T) {
				a := k.assertion(t, claims())
				tok := e.mustToken(t, e.cc(id, "", assertionParams(a, orgParams(w.acme.ID))))
				w.checkOrgToken(t, tok, id, w.acme, "", []string{"member"}, memberPerms)
				// The same assertion again is a replay.
				_, status, body := e.fetch(t, e.cc(id, "", assertionParams(a, orgParams(w.acme.ID))))
				wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
				_, status, body = e.fetch(t, e.cc("", "", assertionParams(a, url.Values{"resource": {"https://reports.example.test"}})))
				wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
			})
		}

		t.Run("client_id may be left out; aud may be the issuer", func(t *testing.T) {
			c := claims()
			c.Audience = jwt.Audience{"https://elsewhere.example.test", iss}
			e.mustToken(t, e.cc("", "", assertionParams(keys[0].assertion(t, c), url.Values{"resource": {"https://reports.example.test"}})))
		})

		t.Run("the secret is refused", func(t *testing.T) {
			_, status, body := e.fetch(t, e.cc(id, secret, orgParams(w.acme.ID)))
			wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
		})

		other := newClientKey(t, jose.ES256)
		hmac, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))}, (&jose.SignerOptions{}).WithHeader("kid", keys[0].kid))
		if err != nil {
			t.Fatal(err)
		}
		hs, _ := jwt.Signed(hmac).Claims(claims()).Serialize()
		reasons := map[string]string{
			"wrong audience":          "client assertion audience must be the issuer or the token endpoint",
			"expired":                 "client assertion has expired",
			"no exp":                  "client assertion has no exp",
			"lifetime over 5 minutes": "client assertion lifetime is longer than 5 minutes",
			"no iat and exp too far":  "client assertion lifetime is longer than 5 minutes",
			"issued in the future":    "client assertion is issued in the future",
			"no jti":                  "client assertion needs a jti",
		}
		for _, c := range []struct {
			name      string
			clientID  string
			assertion string
		}{
			{"unknown key", id, other.assertion(t, claims())},
			{"another key under a known kid", id, clientKey{alg: jose.ES256, kid: keys[0].kid, priv: other.priv}.assertion(t, claims())},
			{"HMAC", id, hs},
			{"alg none", id, "eyJhbGciOiJub25lIn0." + strings.Split(hs, ".")[1] + "."},
			{"client_id is not the issuer", w.clientID, keys[0].assertion(t, claims())},
			{"sub is not the client", id, keys[0].assertion(t, func() jwt.Claims { c := claims(); c.Subject = "someone"; return c }())},
			{"wrong audience", id, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.Audience = jwt.Audience{"https://elsewhere.example.test"}
				return c
			}())},
			{"expired", id, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.IssuedAt = jwt.NewNumericDate(e.clock.Now().Add(-3 * time.Minute))
				c.Expiry = jwt.NewNumericDate(e.clock.Now().Add(-time.Second))
				return c
			}())},
			{"no exp", id, keys[0].assertion(t, func() jwt.Claims { c := claims(); c.Expiry = nil; return c }())},
			{"lifetime over 5 minutes", id, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.Expiry = jwt.NewNumericDate(e.clock.Now().Add(10 * time.Minute))
				return c
			}())},
			{"no iat and exp too far", id, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.IssuedAt, c.Expiry = nil, jwt.NewNumericDate(e.clock.Now().Add(6*time.Minute))
				return c
			}())},
			{"issued in the future", id, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.IssuedAt, c.Expiry = jwt.NewNumericDate(e.clock.Now().Add(2*time.Minute)), jwt.NewNumericDate(e.clock.Now().Add(3*time.Minute))
				return c
			}())},
			{"no jti", id, keys[0].assertion(t, func() jwt.Claims { c := claims(); c.ID = ""; return c }())},
			{"a secret client's assertion", w.clientID, keys[0].assertion(t, func() jwt.Claims {
				c := claims()
				c.Issuer, c.Subject = w.clientID, w.clientID
				return c
			}())},
			{"garbage", id, "not.a.jwt"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, status, body := e.fetch(t, e.cc(c.clientID, "", assertionParams(c.assertion, orgParams(w.acme.ID))))
				wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
				// Until the signature holds, one description for all.
				want, ok := reasons[c.name]
				if !ok {
					want = "client authentication failed"
				}
				if got := jsonBody(t, body)["error_description"]; got != want {
					t.Errorf("error_description = %q, want %q", got, want)
				}
			})
		}

		t.Run("a jti is remembered until its assertion expires", func(t *testing.T) {
			a := keys[0].assertion(t, claims())
			e.mustToken(t, e.cc(id, "", assertionParams(a, orgParams(w.acme.ID))))
			e.advance(time.Minute)
			_, status, body := e.fetch(t, e.cc(id, "", assertionParams(a, orgParams(w.acme.ID))))
			wantRefusal(t, status, body, http.StatusUnauthorized, "invalid_client")
		})
	})
}

// discovery reads the default tenant's discovery document.
func discovery(t testing.TB, e *env) map[string]any {
	t.Helper()
	resp, err := e.ts.Client().Get(e.issuer(storage.DefaultTenant) + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := jsonDecode(resp, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOrganizationOwnedApplications: an organization's m2m application
// gets tokens for that organization only, and its web application signs
// in only that organization's members.
func TestOrganizationOwnedApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e) // grace: member of acme and globex, not of initech

		t.Run("m2m", func(t *testing.T) {
			id, secret := e.app(storage.DefaultTenant, storage.AppM2M, "", func(a *storage.Application) {
				a.RedirectURIs, a.PostLogoutRedirectURIs, a.OrganizationID = nil, nil, w.acme.ID
			})
			e.link(t, w.acme.ID, id, storage.RoleMember)
			// Even a link to another organization (should one exist) gives nothing there.
			if err := e.srv.Store.LinkApplication(e.ctx, storage.ApplicationLink{TenantID: storage.DefaultTenant, OrganizationID: w.globex.ID,
				ClientID: id, Roles: []string{storage.RoleMember}, CreatedAt: e.clock.Now()}); err != nil {
				t.Logf("the store refuses to link an organization's application to another organization: %v", err)
			}
			tok := e.mustToken(t, e.cc(id, secret, orgParams(w.acme.ID)))
			if c := e.verifiedClaims(t, tok.AccessToken); c["organization_id"] != w.acme.ID || c["sub"] != id {
				t.Errorf("own organization's token: %v", c)
			}
			_, s1, other := e.fetch(t, e.cc(id, secret, orgParams(w.globex.ID)))
			_, s2, missing := e.fetch(t, e.cc(id, secret, orgParams("org_doesnotexist")))
			if s1 != http.StatusForbidden || other != missing || !strings.Contains(other, `"access_denied"`) {
				t.Fatalf("another organization: %d %s\nnonexistent: %d %s", s1, other, s2, missing)
			}
			// No tenant-wide tokens for an organization's application.
			_, status, body := e.fetch(t, e.cc(id, secret, url.Values{"resource": {"https://reports.example.test"}}))
			wantRefusal(t, status, body, http.StatusBadRequest, "invalid_request")
		})

		t.Run("web", func(t *testing.T) {
			signIn := func(owner string, params ...oauth2.AuthCodeOption) url.Values {
				id, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback, func(a *storage.Application) { a.OrganizationID = owner })
				rp := e.rp(storage.DefaultTenant, id, secret, "openid", "offline_access", "organizations")
				verifier := oauth2.GenerateVerifier()
				q := e2etest.RedirectParams(t, must(w.br.Get(rp.Config.AuthCodeURL("s", append(params, oauth2.S256ChallengeOption(verifier))...))))
				if code := q.Get("code"); code != "" {
					tok, err := rp.Config.Exchange(rp.Ctx, code, oauth2.VerifierOption(verifier))
					if err != nil {
						t.Fatalf("code exchange: %v", err)
					}
					_, atc := e2etest.DecodeJWT(t, tok.AccessToken)
					_, idc := e2etest.DecodeJWT(t, tok.Extra("id_token").(string))
					q.Set("access_token_org", fmt.Sprint(atc["organization_id"]))
					q.Set("id_token_org", fmt.Sprint(idc["organization_id"]))
					// Its refresh token cannot switch to another organization.
					status, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/token", id, secret, url.Values{
						"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "organization_id": {w.globex.ID}})
					q.Set("switch", fmt.Sprint(status, " ", body["error"]))
				}
				return q
			}
			// A member signs in, and gets tokens for the application's organization.
			q := signIn(w.acme.ID)
			if q.Get("code") == "" || q.Get("access_token_org") != w.acme.ID || q.Get("id_token_org") != w.acme.ID {
				t.Fatalf("member of the owning organization: %v", q)
			}
			if q.Get("switch") != "403 access_denied" {
				t.Errorf("refresh for another organization: %s", q.Get("switch"))
			}
			// A non-member is sent back with access_denied.
			if q := signIn(w.initech.ID); q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "s" {
				t.Errorf("non-member: %v", q)
			}
			// organization= cannot point an organization's application elsewhere.
			if q := signIn(w.acme.ID, oauth2.SetAuthURLParam("organization", w.globex.Slug)); q.Get("error") != "access_denied" || q.Get("code") != "" {
				t.Errorf("organization=another: %v", q)
			}
			if q := signIn(w.acme.ID, oauth2.SetAuthURLParam("organization", w.acme.Slug)); q.Get("code") == "" {
				t.Errorf("organization=its own: %v", q)
			}
		})
	})
}
