package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/orgid/orgid/internal/e2etest"
)

// TestTwoReplicas: two orgid processes on one PostgreSQL and one Redis
// behave as one provider behind a load balancer: a code issued by one is
// redeemed at the other, refresh tokens rotate across both, and reusing a
// rotated refresh token is refused everywhere (DESIGN §6, §8).
func TestTwoReplicas(t *testing.T) {
	addrA, addrB := e2etest.FreeAddr(t), e2etest.FreeAddr(t)
	env := backends[1].env(t).with("ORGID_EXTERNAL_URL", "http://"+addrA) // both behind one public URL
	clientID, secret := createApp(t, env.with("ORGID_DATA_DIR", t.TempDir()), "--type", "web", "--name", "Replicated", "--redirect-uri", e2etest.Callback)

	a := serve(t, env.with("ORGID_DATA_DIR", t.TempDir()), addrA)
	b := serve(t, env.with("ORGID_DATA_DIR", t.TempDir()), addrB)
	issuer := "http://" + addrA + "/t/default"
	if got := discovery(t, b.issuer())["issuer"]; got != issuer {
		t.Fatalf("replica B's issuer = %v, want %s", got, issuer)
	}
	tokenA, tokenB := a.issuer()+"/oauth/token", b.issuer()+"/oauth/token"

	u := newUser(t, issuer, clientID, secret)
	code := u.signUp(t, "lin@example.test", "a long enough password") // at A
	first := u.exchange(t, tokenB, code)                              // at B
	sub := u.rp.VerifyIDToken(first.IDToken).Subject
	if first.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	second := u.refresh(t, tokenA, first.RefreshToken) // at A
	third := u.refresh(t, tokenB, second.RefreshToken) // at B
	for i, tok := range []tokens{second, third} {
		if got := u.rp.VerifyIDToken(tok.IDToken).Subject; got != sub {
			t.Errorf("refresh %d: ID token for %q, want %q", i+1, got, sub)
		}
		if tok.RefreshToken == "" {
			t.Errorf("refresh %d: no rotated refresh token", i+1)
		}
	}
	if second.RefreshToken == first.RefreshToken || third.RefreshToken == second.RefreshToken {
		t.Error("refresh tokens did not rotate")
	}
	for _, srv := range []*server{a, b} {
		if status, body := userinfo(t, srv.issuer(), third.AccessToken); status != http.StatusOK {
			t.Errorf("userinfo at %s: %d %s", srv.addr, status, body)
		}
	}

	// Reusing the first refresh token is refused at both replicas, and
	// revokes the family, so the newest one stops working too.
	for _, tokenURL := range []string{tokenA, tokenB} {
		status, body, _ := e2etest.PostForm(t, hc, tokenURL, clientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("reused refresh token at %s: %d %v, want 400 invalid_grant", tokenURL, status, body)
		}
	}
	status, body, _ := e2etest.PostForm(t, hc, tokenA, clientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("newest refresh token after a reuse: %d %v, want 400 invalid_grant", status, body)
	}

	// The code was redeemed once, at B: A refuses it too. (Not earlier:
	// a replayed code revokes what it issued.)
	status, body, _ = e2etest.PostForm(t, hc, tokenA, clientID, secret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {e2etest.Callback}, "code_verifier": {u.verifier},
	})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("code replayed at A: %d %v, want 400 invalid_grant", status, body)
	}

	a.stop()
	b.stop()
}

// TestTwoReplicasM2M: an m2m app's link and roles, changed through replica
// A's management API, hold at replica B within its 1 s cache: the next
// client-credentials token at B after that carries the new roles, and
// none is issued once the app is unlinked (issue 5).
func TestTwoReplicasM2M(t *testing.T) {
	addrA, addrB := e2etest.FreeAddr(t), e2etest.FreeAddr(t)
	env := backends[1].env(t).with("ORGID_EXTERNAL_URL", "http://"+addrA,
		"ORGID_BOOTSTRAP_CLIENT_ID", "bootstrap", "ORGID_BOOTSTRAP_CLIENT_SECRET", "bootstrap-secret-0123456789abcdefghijklmnop")
	a := serve(t, env.with("ORGID_DATA_DIR", t.TempDir()), addrA)
	b := serve(t, env.with("ORGID_DATA_DIR", t.TempDir()), addrB)
	defer a.stop()
	defer b.stop()
	issuer := "http://" + addrA + "/t/default"

	status, tok, _ := e2etest.PostForm(t, hc, a.issuer()+"/oauth/token", "bootstrap", "bootstrap-secret-0123456789abcdefghijklmnop",
		url.Values{"grant_type": {"client_credentials"}, "resource": {issuer + "/api"}})
	if status != http.StatusOK {
		t.Fatalf("management token: %d %v", status, tok)
	}
	mgmt := tok["access_token"].(string)
	api := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, a.issuer()+"/api/v1/admin"+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+mgmt)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, out, want)
		}
		return out
	}
	org := api(http.MethodPost, "/organizations", map[string]any{"name": "Acme"}, http.StatusCreated)["id"].(string)
	app := api(http.MethodPost, "/applications", map[string]any{"name": "Integration", "type": "m2m"}, http.StatusCreated)
	clientID, secret := app["client_id"].(string), app["client_secret"].(string)
	api(http.MethodPost, "/organizations/"+org+"/applications", map[string]any{"application_id": clientID, "roles": []string{"admin"}}, http.StatusCreated)

	// tokenAtB asks replica B for an organization token with
	// golang.org/x/oauth2/clientcredentials and returns its roles.
	tokenAtB := func() ([]any, error) {
		cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: b.issuer() + "/oauth/token",
			EndpointParams: url.Values{"organization_id": {org}}, AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(oidc.ClientContext(context.Background(), hc))
		if err != nil {
			return nil, err
		}
		_, claims := e2etest.DecodeJWT(t, tok.AccessToken)
		if claims["organization_id"] != org || claims["sub"] != clientID {
			t.Fatalf("organization token at B: %v", claims)
		}
		roles, _ := claims["organization_roles"].([]any)
		return roles, nil
	}
	if roles, err := tokenAtB(); err != nil || len(roles) != 1 || roles[0] != "admin" {
		t.Fatalf("first token at B: roles %v, %v", roles, err)
	}

	// A role change at A: B's cache holds an entry for at most 1 s.
	api(http.MethodPut, "/organizations/"+org+"/applications/"+clientID+"/roles", map[string]any{"roles": []string{"member"}}, http.StatusOK)
	time.Sleep(1100 * time.Millisecond)
	if roles, err := tokenAtB(); err != nil || len(roles) != 1 || roles[0] != "member" {
		t.Fatalf("token at B after the role change at A: roles %v, %v", roles, err)
	}

	// Unlinked at A: B refuses within 1 s, with the users' 403.
	req, _ := http.NewRequest(http.MethodDelete, a.issuer()+"/api/v1/admin/organizations/"+org+"/applications/"+clientID, nil)
	req.Header.Set("Authorization", "Bearer "+mgmt)
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unlink at A: %v %v", resp, err)
	}
	resp.Body.Close()
	time.Sleep(1100 * time.Millisecond)
	status, body, _ := e2etest.PostForm(t, hc, b.issuer()+"/oauth/token", clientID, secret, url.Values{"grant_type": {"client_credentials"}, "organization_id": {org}})
	if status != http.StatusForbidden || body["error"] != "access_denied" {
		t.Fatalf("token at B after the unlink at A: %d %v, want 403 access_denied", status, body)
	}
}
