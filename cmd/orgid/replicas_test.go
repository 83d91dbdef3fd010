package main_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
)

// TestTwoReplicas: two orgid processes on one PostgreSQL and one Redis
// behave as one provider behind a load balancer: a code issued by one is
// redeemed at the other, refresh tokens rotate across both, and reusing a
// rotated refresh token is refused everywhere (DESIGN §6, §8).
func TestTwoReplicas(t *testing.T) {
	addrA, addrB := freeAddr(t), freeAddr(t)
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
