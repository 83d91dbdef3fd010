package e2etest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// RP is a relying party: an oauth2 config plus go-oidc's provider,
// discovered from the issuer as any real client would.
type RP struct {
	t        T
	Config   oauth2.Config
	Provider *oidc.Provider
	Ctx      context.Context
	// Now is the clock ID tokens are checked against.
	Now func() time.Time
}

// NewRP discovers issuer and returns a client for clientID. Without
// scopes it asks for openid, profile, email and offline_access.
func NewRP(t T, hc *http.Client, issuer, clientID, secret string, scopes ...string) *RP {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), hc)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}
	}
	return &RP{t: t, Ctx: ctx, Provider: provider, Now: time.Now, Config: oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: Callback, Scopes: scopes,
	}}
}

// VerifyIDToken checks an ID token with go-oidc against the JWKS.
func (r *RP) VerifyIDToken(raw string, algs ...string) *oidc.IDToken {
	r.t.Helper()
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	v := r.Provider.VerifierContext(r.Ctx, &oidc.Config{ClientID: r.Config.ClientID, SupportedSigningAlgs: algs, Now: r.Now})
	tok, err := v.Verify(r.Ctx, raw)
	if err != nil {
		r.t.Fatalf("ID token does not verify: %v", err)
	}
	return tok
}

// PostForm sends a form, with basic auth when clientID and secret are
// set, and decodes a JSON answer (a non-JSON body lands under "_body").
func PostForm(t T, hc *http.Client, u, clientID, secret string, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" && secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(body) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: not JSON: %s", u, body)
		}
	}
	if out == nil {
		out = map[string]any{"_body": string(body)}
	}
	return resp.StatusCode, out, resp.Header
}

// DecodeJWT returns a JWT's header and claims without verifying it.
func DecodeJWT(t T, token string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return h, c
}
