package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Identity tokens (DESIGN §3): an organization's identity service signs a
// token with one of the organization's authentication keys, and a client
// trades it, with a nonce it asked orgid for, for an organization token.

// identityWorld is an organization with an ES256 and an RS256 key, a web
// client that trades identity tokens, and a second web client.
type identityWorld struct {
	e                *env
	org, other       storage.Organization
	clientID, secret string
	otherID, otherSc string
	ecKID, rsaKID    string
	ecKey            *ecdsa.PrivateKey
	rsaKey           *rsa.PrivateKey
	ecJWK            []byte
}

func newIdentityWorld(t testing.TB, e *env) *identityWorld {
	t.Helper()
	w := &identityWorld{e: e}
	w.org = e.organization(t, "Acme Corp")
	w.other = e.organization(t, "Globex")
	w.clientID, w.secret = e.app(storage.DefaultTenant, storage.AppWeb, callback)
	w.otherID, w.otherSc = e.app(storage.DefaultTenant, storage.AppWeb, callback)
	var err error
	if w.ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if w.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	e2etest.Secrets.AddPrivateKey(w.ecKey) // for the secret-leak check
	e2etest.Secrets.AddPrivateKey(w.rsaKey)
	w.ecKID, w.ecJWK = w.authKey(t, w.org.ID, "ES256", w.ecKey.Public())
	w.rsaKID, _ = w.authKey(t, w.org.ID, "RS256", w.rsaKey.Public())
	return w
}

// authKey stores a public key as an authentication key of orgID.
func (w *identityWorld) authKey(t testing.TB, orgID, alg string, pub crypto.PublicKey) (string, []byte) {
	t.Helper()
	kid := secure.ID("key")
	jwk, err := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.e.srv.Store.CreateAuthKey(w.e.ctx, storage.AuthKey{
		TenantID: storage.DefaultTenant, OrganizationID: orgID, KID: kid, Alg: alg,
		PublicJWK: jwk, Status: storage.AuthKeyActive, CreatedAt: w.e.clock.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	return kid, jwk
}

// nonce asks orgid for a nonce as clientID.
func (w *identityWorld) nonce(t testing.TB, clientID, secret string) string {
	t.Helper()
	status, body, h := w.e.postForm(w.e.issuer(storage.DefaultTenant)+"/identity/nonces", clientID, secret, url.Values{})
	n, _ := body["nonce"].(string)
	if status != http.StatusOK || n == "" || body["expires_in"] != float64(600) || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("nonce: %d %v", status, body)
	}
	return n
}

// claims are an identity token's claims for the organization, now.
func (w *identityWorld) claims(sub, nonce string) map[string]any {
	now := w.e.clock.Now()
	return map[string]any{
		"iss": w.org.ProviderID, "sub": sub, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": sub + "@idp.example.test", "email_verified": true, "name": "User " + sub,
	}
}

// sign signs claims with key under kid, with extra header fields.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any, extra map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exchange posts an assertion to the token endpoint as clientID and
// returns the status, the raw body and the decoded body.
func (w *identityWorld) exchange(t testing.TB, clientID, secret, assertion, scope string) (int, string, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest(http.MethodPost, w.e.issuer(storage.DefaultTenant)+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := w.e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	return resp.StatusCode, string(raw), body
}

// wantGrantRefusal fails unless the answer is 400 invalid_grant naming
// the check, without the assertion in it.
func wantGrantRefusal(t testing.TB, status int, raw string, body map[string]any, assertion, check string) {
	t.Helper()
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" || !strings.Contains(desc, check) {
		t.Fatalf("got %d %s, want 400 invalid_grant %q", status, raw, check)
	}
	if strings.Contains(raw, assertion) || strings.Contains(raw, strings.Split(assertion, ".")[1]) {
		t.Fatalf("the answer echoes the assertion: %s", raw)
	}
}

func TestIdentityToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)

		// ES256, standard names, with openid and offline_access.
		tok := sign(t, jose.ES256, w.ecKey, w.ecKID, w.claims("u-1", w.nonce(t, w.clientID, w.secret)), nil)
		status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "openid email offline_access")
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %s", status, raw)
		}
		at, _ := body["access_token"].(string)
		c := e.verifiedClaims(t, at)
		if c["organization_id"] != w.org.ID || !slices.Contains(strs(c["aud"]), "urn:orgid:organization:"+w.org.ID) ||
			!slices.Equal(strs(c["amr"]), []string{"ext"}) || !slices.Contains(strs(c["organization_roles"]), storage.RoleMember) {
			t.Errorf("organization token claims: %v", c)
		}
		if body["id_token"] == nil || body["refresh_token"] == nil {
			t.Errorf("want id_token and refresh_token: %s", raw)
		}
		x, err := e.srv.Store.GetExternalIdentity(e.ctx, storage.DefaultTenant, w.org.ProviderID, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if c["sub"] != x.UserID {
			t.Errorf("sub = %v, linked user %s", c["sub"], x.UserID)
		}
		u, err := e.srv.Store.GetUser(e.ctx, storage.DefaultTenant, x.UserID)
		if err != nil || u.Email != "u-1@idp.example.test" || !u.EmailVerified || u.Name != "User u-1" {
			t.Errorf("user: %+v %v", u, err)
		}
		m, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, w.org.ID, x.UserID)
		if err != nil || !slices.Equal(m.Roles, []string{storage.RoleMember}) {
			t.Errorf("membership: %+v %v", m, err)
		}
		// The refresh token goes on giving organization tokens.
		rs, rb, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/token", w.clientID, w.secret,
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
		if rs != http.StatusOK || e.verifiedClaims(t, rb["access_token"].(string))["organization_id"] != w.org.ID {
			t.Errorf("refresh: %d %v", rs, rb)
		}

		// RS256, Layer's names (prn, nce, display_name) and header: the
		// same subject is the same user, with the new name.
		e.advance(time.Second)
		lc := w.claims("", "")
		delete(lc, "sub")
		delete(lc, "nonce")
		delete(lc, "name")
		lc["prn"], lc["nce"], lc["display_name"] = "u-1", w.nonce(t, w.clientID, w.secret), "Renamed"
		lc["email"] = "u-1@idp.example.test"
		tok = sign(t, jose.RS256, w.rsaKey, w.rsaKID, lc, map[jose.HeaderKey]any{"typ": "JWS", "cty": "layer-eit;v=1"})
		status, raw, body = w.exchange(t, w.clientID, w.secret, tok, "")
		if status != http.StatusOK {
			t.Fatalf("Layer exchange: %d %s", status, raw)
		}
		if c := e.verifiedClaims(t, body["access_token"].(string)); c["sub"] != x.UserID {
			t.Errorf("Layer token sub = %v, want %s", c["sub"], x.UserID)
		}
		if body["id_token"] != nil || body["refresh_token"] != nil {
			t.Errorf("no openid, no offline_access: %s", raw)
		}
		if u, _ := e.srv.Store.GetUser(e.ctx, storage.DefaultTenant, x.UserID); u.Name != "Renamed" {
			t.Errorf("profile not updated: %+v", u)
		}
	})
}

func TestIdentityTokenRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		fresh := func() string { return w.nonce(t, w.clientID, w.secret) }
		es := func(claims map[string]any) string { return sign(t, jose.ES256, w.ecKey, w.ecKID, claims, nil) }
		with := func(k string, v any) map[string]any {
			c := w.claims("u-r", fresh())
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
			return c
		}
		now := e.clock.Now()

		revokedKID, _ := w.authKey(t, w.org.ID, "ES256", w.ecKey.Public())
		if err := e.srv.Store.RevokeAuthKey(e.ctx, storage.DefaultTenant, w.org.ID, revokedKID, now); err != nil {
			t.Fatal(err)
		}
		strangerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + w.ecKID + `"}`))
		payload, _ := json.Marshal(w.claims("u-r", fresh()))
		algNone := noneHeader + "." + base64.RawURLEncoding.EncodeToString(payload) + "."

		used := fresh()
		if s, raw, _ := w.exchange(t, w.clientID, w.secret, es(w.claims("u-used", used)), ""); s != http.StatusOK {
			t.Fatalf("first use: %d %s", s, raw)
		}
		othersNonce := w.nonce(t, w.otherID, w.otherSc)

		cases := []struct {
			name, check string
			token       func() string
		}{
			{"unknown kid", "unknown kid", func() string { return sign(t, jose.ES256, w.ecKey, "key_nobody", w.claims("u-r", fresh()), nil) }},
			{"revoked key", "key revoked", func() string { return sign(t, jose.ES256, w.ecKey, revokedKID, w.claims("u-r", fresh()), nil) }},
			{"issuer of another organization", "wrong issuer", func() string { return es(with("iss", w.other.ProviderID)) }},
			{"alg none", "algorithm not allowed", func() string { return algNone }},
			{"HS256 keyed with the public key", "algorithm not allowed", func() string {
				return sign(t, jose.HS256, w.ecJWK, w.ecKID, w.claims("u-r", fresh()), nil)
			}},
			{"RS256 for an ES256 key", "algorithm is not the key's", func() string {
				return sign(t, jose.RS256, w.rsaKey, w.ecKID, w.claims("u-r", fresh()), nil)
			}},
			{"bad signature", "bad signature", func() string { return sign(t, jose.ES256, strangerKey, w.ecKID, w.claims("u-r", fresh()), nil) }},
			{"expired", "expired", func() string {
				c := with("exp", now.Add(-time.Minute).Unix())
				c["iat"] = now.Add(-5 * time.Minute).Unix()
				return es(c)
			}},
			{"issued in the future", "issued in the future", func() string {
				c := with("iat", now.Add(2*time.Minute).Unix())
				c["exp"] = now.Add(5 * time.Minute).Unix()
				return es(c)
			}},
			{"lifetime over ten minutes", "lifetime too long", func() string { return es(with("exp", now.Add(601*time.Second).Unix())) }},
			{"missing sub", "missing sub", func() string { return es(with("sub", nil)) }},
			{"unknown nonce", "nonce unknown", func() string { return es(w.claims("u-r", secure.Token())) }},
			{"used nonce", "nonce already used", func() string { return es(w.claims("u-r", used)) }},
			{"nonce of another client", "nonce was issued to another client", func() string { return es(w.claims("u-r", othersNonce)) }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tok := c.token()
				status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "openid")
				wantGrantRefusal(t, status, raw, body, tok, c.check)
			})
		}

		// A nonce past its ten minutes, in a token that is itself fresh.
		t.Run("expired nonce", func(t *testing.T) {
			n := fresh()
			e.advance(601 * time.Second)
			tok := es(w.claims("u-r", n))
			status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "")
			wantGrantRefusal(t, status, raw, body, tok, "nonce expired")
		})
		// None of the refused subjects became a user.
		if _, err := e.srv.Store.GetExternalIdentity(e.ctx, storage.DefaultTenant, w.org.ProviderID, "u-r"); err == nil {
			t.Error("a refused identity token linked a user")
		}
	})
}

// TestIdentityNonceSingleUse: of 20 concurrent exchanges of one nonce,
// exactly one gets a token.
func TestIdentityNonceSingleUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		tok := sign(t, jose.ES256, w.ecKey, w.ecKID, w.claims("u-race", w.nonce(t, w.clientID, w.secret)), nil)
		var ok, used atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, _, body := w.exchange(t, w.clientID, w.secret, tok, "")
				switch {
				case status == http.StatusOK:
					ok.Add(1)
				case body["error_description"] == "nonce already used":
					used.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 || used.Load() != 19 {
			t.Fatalf("%d succeeded, %d refused as used; want 1 and 19", ok.Load(), used.Load())
		}
	})
}

// TestIdentityNonceEndpoint: the nonce endpoint authenticates the client
// and only serves clients that may use identity tokens.
func TestIdentityNonceEndpoint(t *testing.T) {
	e := newEnv(t, embedded)
	w := newIdentityWorld(t, e)
	u := e.issuer(storage.DefaultTenant) + "/identity/nonces"
	if s, body, _ := e.postForm(u, w.clientID, "wrong", url.Values{}); s != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", s, body)
	}
	m2mID, m2mSecret := e.m2m(storage.DefaultTenant)
	if s, body, _ := e.postForm(u, m2mID, m2mSecret, url.Values{}); s != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("m2m client: %d %v", s, body)
	}
	resp, err := e.ts.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if w.nonce(t, w.clientID, w.secret) == w.nonce(t, w.clientID, w.secret) {
		t.Error("two nonces are equal")
	}
}

// TestIdentityKeyRevokeForgetsCache: a replica keeps keys it looked up by
// kid for a second, but a key revoked through the management API is
// refused at once on the replica that revoked it.
func TestIdentityKeyRevokeForgetsCache(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		admin, _ := e.admin(t, storage.DefaultTenant)
		exchange := func(sub string) (string, int, string, map[string]any) {
			tok := sign(t, jose.ES256, w.ecKey, w.ecKID, w.claims(sub, w.nonce(t, w.clientID, w.secret)), nil)
			status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "")
			return tok, status, raw, body
		}

		if _, status, raw, _ := exchange("u-k"); status != http.StatusOK {
			t.Fatalf("exchange before the revocation: %d %s", status, raw)
		}
		admin.do(http.MethodDelete, keysPath(w.org.ID, "/"+w.ecKID), nil).want(t, http.StatusNoContent)
		// The clock stands still: only the revocation's hook can have
		// dropped the cached key.
		tok, status, raw, body := exchange("u-k")
		wantGrantRefusal(t, status, raw, body, tok, "key revoked")
	})
}

// TestIdentityKeyRevokedElsewhere: a key revoked where this replica is not
// told (another replica, the store directly) is refused once the cache's
// second has passed.
func TestIdentityKeyRevokedElsewhere(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		exchange := func(sub string) (string, int, string, map[string]any) {
			tok := sign(t, jose.ES256, w.ecKey, w.ecKID, w.claims(sub, w.nonce(t, w.clientID, w.secret)), nil)
			status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "")
			return tok, status, raw, body
		}

		if _, status, raw, _ := exchange("u-e"); status != http.StatusOK {
			t.Fatalf("exchange before the revocation: %d %s", status, raw)
		}
		if err := e.srv.Store.RevokeAuthKey(e.ctx, storage.DefaultTenant, w.org.ID, w.ecKID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Within the second the cached key still serves: the lookup by
		// kid is cached, not read on every exchange.
		if _, status, raw, _ := exchange("u-e"); status != http.StatusOK {
			t.Fatalf("exchange within the cache's second: %d %s", status, raw)
		}
		e.advance(time.Second)
		tok, status, raw, body := exchange("u-e")
		wantGrantRefusal(t, status, raw, body, tok, "key revoked")
	})
}

// TestIdentityTokenWithAPIKeys: the integrator's path end to end. The
// organization's keys come from the management API (the private PEM shown
// once), the identity service signs with them, and the exchange yields an
// organization token that verifies against the JWKS, for a user created
// just in time as a member.
func TestIdentityTokenWithAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		admin, _ := e.admin(t, storage.DefaultTenant)
		for _, tc := range []struct {
			alg    jose.SignatureAlgorithm
			sub    string
			layer  bool
			create map[string]any
		}{
			{jose.ES256, "api-es", false, map[string]any{}},
			{jose.RS256, "api-layer", true, map[string]any{"alg": "RS256"}},
		} {
			r := admin.do(http.MethodPost, "/admin/organizations/"+w.org.ID+"/keys", tc.create).want(t, http.StatusCreated)
			block, _ := pem.Decode([]byte(r.str("private_key_pem")))
			if block == nil {
				t.Fatalf("no private key PEM: %s", r.raw)
			}
			key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			claims := w.claims(tc.sub, w.nonce(t, w.clientID, w.secret))
			var extra map[jose.HeaderKey]any
			if tc.layer {
				claims["prn"], claims["nce"] = claims["sub"], claims["nonce"]
				delete(claims, "sub")
				delete(claims, "nonce")
				extra = map[jose.HeaderKey]any{"typ": "JWS", "cty": "layer-eit;v=1"}
			}
			tok := sign(t, tc.alg, key, r.str("kid"), claims, extra)
			status, raw, body := w.exchange(t, w.clientID, w.secret, tok, "openid")
			if status != http.StatusOK {
				t.Fatalf("%s exchange: %d %s", tc.alg, status, raw)
			}
			c := e.verifiedClaims(t, body["access_token"].(string))
			x, err := e.srv.Store.GetExternalIdentity(e.ctx, storage.DefaultTenant, w.org.ProviderID, tc.sub)
			if err != nil || c["sub"] != x.UserID || c["organization_id"] != w.org.ID {
				t.Fatalf("%s: token %v, link %+v %v", tc.alg, c, x, err)
			}
			if m, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, w.org.ID, x.UserID); err != nil || !slices.Equal(m.Roles, []string{storage.RoleMember}) {
				t.Errorf("%s: membership %+v %v", tc.alg, m, err)
			}
			// The key list shows it used, and never its private half.
			list := admin.do(http.MethodGet, "/admin/organizations/"+w.org.ID+"/keys", nil).want(t, http.StatusOK)
			if strings.Contains(list.raw, "PRIVATE KEY") {
				t.Fatalf("key list shows private material: %s", list.raw)
			}
			for _, it := range list.items() {
				if it["kid"] == r.str("kid") && it["last_used_at"] == nil {
					t.Errorf("%s: key not marked used: %v", tc.alg, it)
				}
			}
		}
	})
}
