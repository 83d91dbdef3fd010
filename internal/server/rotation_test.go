package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage"
)

func jwksKids(t *testing.T, e *env) map[string]bool {
	t.Helper()
	resp, err := e.ts.Client().Get(e.issuer(storage.DefaultTenant) + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc == "" {
		t.Error("JWKS without Cache-Control")
	}
	var set jose.JSONWebKeySet
	if err := jsonDecode(resp, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS publishes private key %s", k.KeyID)
		}
		kids[k.KeyID] = true
	}
	return kids
}

// TestKeyRotation: a token signed before a rotation still verifies after
// it; the key that signs after the rotation was in the JWKS before; a
// retired key leaves the JWKS once every token it signed has expired.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, embedded)
	s := newSignedIn(t, e)
	before := jwksKids(t, e)

	_, old, _ := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
	oldAT, oldID := old["access_token"].(string), old["id_token"].(string)
	oldATHeader, _ := e2etest.DecodeJWT(t, oldAT)
	oldIDHeader, _ := e2etest.DecodeJWT(t, oldID)

	if err := e.srv.Keys.Rotate(context.Background(), storage.DefaultTenant); err != nil {
		t.Fatal(err)
	}

	_, fresh, _ := s.exchange(s.code(t), s.clientID, s.secret, s.verifier)
	for _, tok := range []string{fresh["access_token"].(string), fresh["id_token"].(string)} {
		h, _ := e2etest.DecodeJWT(t, tok)
		kid := h["kid"].(string)
		if kid == oldATHeader["kid"] || kid == oldIDHeader["kid"] {
			t.Errorf("still signing with the old key %s after rotation", kid)
		}
		if !before[kid] {
			t.Errorf("key %s signs but was not in the JWKS before the rotation", kid)
		}
	}

	// Tokens from before the rotation still verify, with a client that
	// fetches the JWKS only now.
	after := jwksKids(t, e)
	if !after[oldATHeader["kid"].(string)] || !after[oldIDHeader["kid"].(string)] {
		t.Fatal("the retired keys left the JWKS while their tokens live")
	}
	e.rp(storage.DefaultTenant, s.clientID, s.secret).VerifyIDToken(oldID)
	_, intro, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/introspect", s.clientID, s.secret, url.Values{"token": {oldAT}})
	if intro["active"] != true {
		t.Fatalf("a pre-rotation access token is no longer accepted: %v", intro)
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer(storage.DefaultTenant)+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+oldAT)
	if resp, err := e.ts.Client().Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with a pre-rotation token: %v %v", resp, err)
	}

	// Once every token the retired keys signed has expired (and the
	// retention has passed), a later rotation drops them.
	e.advance(max(e.srv.Config.AccessTokenTTL, e.srv.Config.IDTokenTTL) * 2)
	if err := e.srv.Keys.Rotate(context.Background(), storage.DefaultTenant); err != nil {
		t.Fatal(err)
	}
	gone := jwksKids(t, e)
	if gone[oldATHeader["kid"].(string)] || gone[oldIDHeader["kid"].(string)] {
		t.Error("retired keys are still published long after their tokens expired")
	}
}
