package main_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
)

// hc is the HTTP client of the tests' programs (not browsers).
var hc = &http.Client{Timeout: 10 * time.Second}

// createApp runs `orgid apps create` and returns the printed client ID and
// secret (empty for public clients).
func createApp(t testing.TB, env environ, args ...string) (clientID, secret string) {
	t.Helper()
	r := mustRun(t, env, append([]string{"apps", "create"}, args...)...)
	clientID, secret = credentials(r.stdout)
	if clientID == "" {
		t.Fatalf("apps create printed no client_id: %s", r)
	}
	return clientID, secret
}

// credentials reads the "client_id:" and "client_secret:" lines.
func credentials(stdout string) (clientID, secret string) {
	for _, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "client_id:"); ok {
			clientID = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "client_secret:"); ok {
			secret = strings.TrimSpace(v)
		}
	}
	return clientID, secret
}

// user is a browser and a relying party at one orgid.
type user struct {
	br       *e2etest.Browser
	rp       *e2etest.RP
	verifier string
}

func newUser(t testing.TB, issuer, clientID, secret string) *user {
	t.Helper()
	return &user{
		br:       e2etest.NewBrowser(t),
		rp:       e2etest.NewRP(t, hc, issuer, clientID, secret),
		verifier: oauth2.GenerateVerifier(),
	}
}

// authURL is an authorization request with PKCE S256 and a nonce.
func (u *user) authURL(state string) string {
	return u.rp.Config.AuthCodeURL(state, oauth2.S256ChallengeOption(u.verifier), oidc.Nonce("n-"+state))
}

// code checks a redirect to the client and returns its code.
func (u *user) code(t testing.TB, resp *http.Response, state string) string {
	t.Helper()
	q := e2etest.RedirectParams(t, resp)
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback params = %v", q)
	}
	return q.Get("code")
}

// signUp creates an account through the forms and returns a code.
func (u *user) signUp(t testing.TB, email, password string) string {
	t.Helper()
	return u.code(t, u.br.SignUp(u.authURL("up"), email, password, "Test User"), "up")
}

// signIn signs in through the forms and returns a code.
func (u *user) signIn(t testing.TB, email, password string) string {
	t.Helper()
	return u.code(t, u.br.SignIn(u.authURL("in"), email, password), "in")
}

// tokens is a successful token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
}

// grant posts a grant to tokenURL as the RP's client and requires success.
func (u *user) grant(t testing.TB, tokenURL string, form url.Values) tokens {
	t.Helper()
	if u.rp.Config.ClientSecret == "" { // a public client names itself in the form
		form.Set("client_id", u.rp.Config.ClientID)
	}
	status, body, _ := e2etest.PostForm(t, hc, tokenURL, u.rp.Config.ClientID, u.rp.Config.ClientSecret, form)
	if status != http.StatusOK {
		t.Fatalf("POST %s %s: %d %v", tokenURL, form.Get("grant_type"), status, body)
	}
	b, _ := json.Marshal(body)
	var tok tokens
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("token response lacks tokens: %v", body)
	}
	return tok
}

// exchange redeems a code at tokenURL (which need not be the discovered one).
func (u *user) exchange(t testing.TB, tokenURL, code string) tokens {
	t.Helper()
	return u.grant(t, tokenURL, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {e2etest.Callback}, "code_verifier": {u.verifier},
	})
}

// refresh uses a refresh token at tokenURL.
func (u *user) refresh(t testing.TB, tokenURL, refreshToken string) tokens {
	t.Helper()
	return u.grant(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// kid returns the key ID in a JWT's header.
func kid(t testing.TB, jwt string) string {
	t.Helper()
	h, _ := e2etest.DecodeJWT(t, jwt)
	k, _ := h["kid"].(string)
	if k == "" {
		t.Fatalf("JWT without kid: %v", h)
	}
	return k
}

// discovery fetches the issuer's discovery document.
func discovery(t testing.TB, issuer string) map[string]any {
	t.Helper()
	status, body := get(t, hc, issuer+"/.well-known/openid-configuration")
	if status != http.StatusOK {
		t.Fatalf("discovery at %s: %d %s", issuer, status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("discovery is not JSON: %v\n%s", err, body)
	}
	return doc
}

// jwksKids returns the kids the issuer's JWKS publishes.
func jwksKids(t testing.TB, issuer string) map[string]bool {
	t.Helper()
	uri, _ := discovery(t, issuer)["jwks_uri"].(string)
	if uri == "" {
		t.Fatal("discovery has no jwks_uri")
	}
	status, body := get(t, hc, uri)
	if status != http.StatusOK {
		t.Fatalf("JWKS: %d %s", status, body)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, body)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if _, private := k["d"]; private {
			t.Fatalf("JWKS publishes a private key: %v", k["kid"])
		}
		id, _ := k["kid"].(string)
		kids[id] = true
	}
	if len(kids) == 0 {
		t.Fatalf("empty JWKS: %s", body)
	}
	return kids
}

// userinfo calls the userinfo endpoint with an access token.
func userinfo(t testing.TB, issuer, accessToken string) (int, []byte) {
	t.Helper()
	return get(t, hc, issuer+"/userinfo", "Authorization", "Bearer "+accessToken)
}
