package main_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
)

// TestKeysRotate: `orgid keys rotate` between two runs of serve. Tokens
// from before still verify and are accepted; new tokens are signed with
// keys that the JWKS published before the rotation (DESIGN §7).
func TestKeysRotate(t *testing.T) {
	env := environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_MASTER_KEY": newMasterKey()}
	clientID, secret := createApp(t, env, "--type", "web", "--name", "Rotation", "--redirect-uri", e2etest.Callback)

	s := serve(t, env, "")
	u := newUser(t, s.issuer(), clientID, secret)
	old := u.exchange(t, s.issuer()+"/oauth/token", u.signUp(t, "rosa@example.test", "a long enough password"))
	oldIDKid, oldATKid := kid(t, old.IDToken), kid(t, old.AccessToken)
	before := jwksKids(t, s.issuer())
	if !before[oldIDKid] || !before[oldATKid] {
		t.Fatalf("tokens signed with kids %s, %s that the JWKS %v does not publish", oldIDKid, oldATKid, before)
	}
	s.stop()

	r := mustRun(t, env, "keys", "rotate", "--tenant", "default")
	if !strings.Contains(r.stdout, "rotated") {
		t.Errorf("keys rotate says: %s", r)
	}

	s = serve(t, env, s.addr) // same address: same issuer
	after := jwksKids(t, s.issuer())
	if !after[oldIDKid] || !after[oldATKid] {
		t.Fatalf("the rotation unpublished keys whose tokens live: %v, was %v", after, before)
	}
	// A relying party that fetches the JWKS only now.
	fresh := e2etest.NewRP(t, hc, s.issuer(), clientID, secret)
	fresh.VerifyIDToken(old.IDToken)
	if status, body := userinfo(t, s.issuer(), old.AccessToken); status != http.StatusOK {
		t.Errorf("userinfo with a pre-rotation access token: %d %s", status, body)
	}

	// Sessions live in the in-process ephemeral store: sign in again.
	u.rp = fresh
	tok := u.exchange(t, s.issuer()+"/oauth/token", u.signIn(t, "rosa@example.test", "a long enough password"))
	fresh.VerifyIDToken(tok.IDToken)
	for name, k := range map[string]string{"ID token": kid(t, tok.IDToken), "access token": kid(t, tok.AccessToken)} {
		if k == oldIDKid || k == oldATKid {
			t.Errorf("%s is still signed with the pre-rotation key %s", name, k)
		}
		if !before[k] {
			t.Errorf("%s is signed with %s, which the JWKS did not publish before the rotation", name, k)
		}
	}
	if status, body := userinfo(t, s.issuer(), tok.AccessToken); status != http.StatusOK {
		t.Errorf("userinfo with a post-rotation access token: %d %s", status, body)
	}
	s.stop()

	r = run(t, env, "keys", "rotate", "--tenant", "no-such-tenant")
	if r.code == 0 || !strings.Contains(r.stderr, "no-such-tenant") {
		t.Errorf("keys rotate for an unknown tenant: %s", r)
	}
	r = run(t, env, "keys", "rotate")
	if r.code == 0 || !strings.Contains(r.stderr, "--tenant") {
		t.Errorf("keys rotate without --tenant: %s", r)
	}
}
