package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// Authentication keys of an organization's identity service (DESIGN §3
// "Identity tokens", §4): made by orgid with the private key shown once,
// or registered as a public key; listed without key material; revoked.

var (
	createdKeyKeys = []string{"kid", "alg", "status", "public_jwk", "created_at"}
	listedKeyKeys  = []string{"kid", "alg", "status", "created_at", "last_used_at", "revoked_at"}
)

// keysPath is the management path of orgID's authentication keys.
func keysPath(orgID string, rest ...string) string {
	return "/admin/organizations/" + orgID + "/keys" + strings.Join(rest, "")
}

// publicPEM is pub as a PEM "PUBLIC KEY" block.
func publicPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// wantGeneratedKey checks a creation answer for a pair orgid made: the
// private key parses as PKCS#8 and is the public JWK's.
func wantGeneratedKey(t testing.TB, r reply, alg string) {
	t.Helper()
	wantKeys(t, "created key", r.body, append(createdKeyKeys, "private_key_pem")...)
	if r.str("alg") != alg || r.str("status") != "active" || r.str("kid") == "" {
		t.Fatalf("created key: %s", r.raw)
	}
	wantTime(t, "created_at", r.body["created_at"])
	block, _ := pem.Decode([]byte(r.str("private_key_pem")))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("private_key_pem is not a PKCS#8 PEM block: %s", r.raw)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(mustJSON(t, r.body["public_jwk"])); err != nil {
		t.Fatal(err)
	}
	if !k.IsPublic() || k.KeyID != r.str("kid") || k.Algorithm != alg || k.Use != "sig" {
		t.Errorf("public_jwk: %v", r.body["public_jwk"])
	}
	if !priv.(crypto.Signer).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
		t.Errorf("the private key is not the public JWK's")
	}
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" || key.Curve != elliptic.P256() {
			t.Errorf("%s key on %v", alg, key.Curve)
		}
	case *rsa.PublicKey:
		if alg != "RS256" || key.N.BitLen() != 2048 {
			t.Errorf("%s key of %d bits", alg, key.N.BitLen())
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			t.Errorf("%s key is Ed25519", alg)
		}
	default:
		t.Errorf("%s key is a %T", alg, key)
	}
}

// wantNoKeyMaterial fails when a list answer holds any key material.
func wantNoKeyMaterial(t testing.TB, r reply) {
	t.Helper()
	for _, bad := range []string{"PRIVATE KEY", `"d"`, "private_key_pem", "public_jwk", "BEGIN"} {
		if strings.Contains(r.raw, bad) {
			t.Errorf("the list holds %s: %s", bad, r.raw)
		}
	}
}

// TestAdminAuthKeys: a tenant admin makes keys of each algorithm,
// registers public keys as PEM and JWK, is refused private, symmetric,
// weak and mismatched keys, lists them without key material and revokes
// them; each change is audited without the private key.
func TestAdminAuthKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.advance(1234567 * time.Nanosecond) // finer than the stores keep
		admin, adminID := e.admin(t, storage.DefaultTenant)
		org := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		other := admin.createOrganization(t, map[string]any{"name": "Other"})["id"].(string)
		rid := func(what string) callOpt { return requestID("auth-key-" + what) }

		// orgid makes the pair: ES256 by default.
		var made []reply
		for _, tc := range []struct {
			body map[string]any
			alg  string
		}{{map[string]any{}, "ES256"}, {map[string]any{"alg": "ES256"}, "ES256"}, {map[string]any{"alg": "RS256"}, "RS256"}, {map[string]any{"alg": "EdDSA"}, "EdDSA"}} {
			e.advance(time.Second)
			r := admin.do(http.MethodPost, keysPath(org), tc.body, rid("create-"+tc.alg)).want(t, http.StatusCreated)
			wantGeneratedKey(t, r, tc.alg)
			made = append(made, r)
		}
		e.advance(time.Second)
		if r := admin.do(http.MethodPost, keysPath(org), map[string]any{}); r.status != http.StatusCreated || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("the answer with a private key may be cached: %d %v", r.status, r.header)
		} else {
			made = append(made, r)
		}

		// Public keys registered as PEM and as JWK.
		e.advance(time.Second)
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		r := admin.do(http.MethodPost, keysPath(org), map[string]any{"public_key_pem": publicPEM(t, &ec.PublicKey)}, rid("upload-pem")).want(t, http.StatusCreated)
		wantKeys(t, "registered key", r.body, createdKeyKeys...)
		if r.str("alg") != "ES256" || r.str("status") != "active" {
			t.Errorf("registered PEM: %s", r.raw)
		}
		pemKID := r.str("kid")
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		r = admin.do(http.MethodPost, keysPath(org), map[string]any{"public_key_pem": publicPEM(t, &rsaKey.PublicKey), "alg": "RS256"}).want(t, http.StatusCreated)
		if r.str("alg") != "RS256" {
			t.Errorf("registered RSA PEM: %s", r.raw)
		}
		edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		r = admin.do(http.MethodPost, keysPath(org), map[string]any{"public_jwk": jwk(t, edPub, "acme-ed-1", "EdDSA", "sig")}, rid("upload-jwk")).want(t, http.StatusCreated)
		wantKeys(t, "registered key", r.body, createdKeyKeys...)
		if r.str("kid") != "acme-ed-1" || r.str("alg") != "EdDSA" || r.body["public_jwk"].(map[string]any)["x"] != jwk(t, edPub, "", "", "")["x"] {
			t.Errorf("registered JWK: %s", r.raw)
		}
		// A kid is one key in the whole tenant: it names the organization.
		admin.do(http.MethodPost, keysPath(other), map[string]any{"public_jwk": jwk(t, &ec.PublicKey, "acme-ed-1", "", "")}).problem(t, http.StatusConflict, "already-exists", "public_jwk")

		// Refusals name the field and store nothing.
		rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
		pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
		privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
			opts  []callOpt
		}{
			{"private key PEM", map[string]any{"public_key_pem": privPEM}, "public_key_pem", nil},
			{"private JWK", map[string]any{"public_jwk": jwk(t, ec, "k-priv", "", "")}, "public_jwk", nil},
			{"private Ed25519 JWK", map[string]any{"public_jwk": jwk(t, edPriv, "k-priv", "", "")}, "public_jwk", nil},
			{"HMAC JWK", map[string]any{"public_jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "alg": "HS256", "kid": "k-hs"}}, "public_jwk", nil},
			{"RSA 1024", map[string]any{"public_key_pem": publicPEM(t, &rsa1024.PublicKey)}, "public_key_pem", nil},
			{"RSA 1024 JWK", map[string]any{"public_jwk": jwk(t, &rsa1024.PublicKey, "k-1024", "", "")}, "public_jwk", nil},
			{"alg not the key's", map[string]any{"public_key_pem": publicPEM(t, &ec.PublicKey), "alg": "RS256"}, "alg", nil},
			{"HS256", map[string]any{"alg": "HS256"}, "alg", []callOpt{invalid()}},
			{"none", map[string]any{"alg": "none"}, "alg", []callOpt{invalid()}},
			{"both", map[string]any{"public_key_pem": publicPEM(t, &ec.PublicKey), "public_jwk": jwk(t, edPub, "k-both", "", "")}, "public_jwk", nil},
			{"not a key", map[string]any{"public_key_pem": "hello"}, "public_key_pem", nil},
			{"kid with a slash", map[string]any{"public_jwk": jwk(t, edPub, "a/b", "", "")}, "public_jwk", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := admin.do(http.MethodPost, keysPath(org), tc.body, tc.opts...).problem(t, http.StatusUnprocessableEntity, "invalid-value", tc.field)
				if strings.Contains(r.raw, "PRIVATE KEY") || strings.Contains(r.raw, `"d"`) {
					t.Errorf("the refusal echoes the key: %s", r.raw)
				}
			})
		}
		admin.do(http.MethodPost, keysPath(org), map[string]any{"private_key_pem": privPEM}, invalid()).problem(t, http.StatusBadRequest, "malformed-request", "private_key_pem")
		admin.do(http.MethodPost, keysPath("org_nope"), map[string]any{}).problem(t, http.StatusNotFound, "not-found", "")

		// The list: oldest first, no key material, never-used keys null.
		lr := admin.do(http.MethodGet, keysPath(org), nil).want(t, http.StatusOK)
		wantNoKeyMaterial(t, lr)
		items := lr.items()
		if len(items) != len(made)+3 {
			t.Fatalf("listed %d keys, want %d: %s", len(items), len(made)+3, lr.raw)
		}
		for i, m := range made {
			if items[i]["kid"] != m.str("kid") || items[i]["alg"] != m.str("alg") || items[i]["created_at"] != m.body["created_at"] {
				t.Errorf("key %d: %v, created as %v", i, items[i], m.body)
			}
		}
		for _, it := range items {
			wantKeys(t, "listed key", it, listedKeyKeys...)
			if it["status"] != "active" || it["last_used_at"] != nil || it["revoked_at"] != nil {
				t.Errorf("listed key: %v", it)
			}
		}
		if paged, _ := listAll(t, admin, keysPath(org), "kid", 2); !reflect.DeepEqual(paged, items) {
			t.Errorf("keys by pages of 2: %v, want %v", paged, items)
		}
		if got := admin.do(http.MethodGet, keysPath(other), nil).want(t, http.StatusOK).items(); len(got) != 0 {
			t.Errorf("the other organization's keys: %v", got)
		}
		admin.do(http.MethodGet, keysPath("org_nope"), nil).problem(t, http.StatusNotFound, "not-found", "")

		// A used key shows when.
		used := made[0].str("kid")
		e.advance(time.Minute)
		if err := e.srv.Store.TouchAuthKey(e.ctx, storage.DefaultTenant, used, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		it := find(t, admin.all(t, keysPath(org), "kid"), "kid", used)
		if at := wantTime(t, "last_used_at", it["last_used_at"]); !at.Equal(e.clock.Now().Truncate(time.Microsecond)) {
			t.Errorf("last_used_at %v, want %v", at, e.clock.Now())
		}

		// Revocation: another organization's key and an unknown kid are
		// 404; revoking twice is 409.
		admin.do(http.MethodDelete, keysPath(other, "/"+pemKID), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, keysPath(org, "/key_nope"), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, keysPath(org, "/"+pemKID), nil, rid("revoke")).want(t, http.StatusNoContent)
		admin.do(http.MethodDelete, keysPath(org, "/"+pemKID), nil).problem(t, http.StatusConflict, "already-revoked", "")
		lr = admin.do(http.MethodGet, keysPath(org), nil).want(t, http.StatusOK)
		wantNoKeyMaterial(t, lr)
		revoked := find(t, lr.items(), "kid", pemKID)
		if revoked["status"] != "revoked" {
			t.Errorf("revoked key: %v", revoked)
		}
		wantTime(t, "revoked_at", revoked["revoked_at"])
		if k, _, err := e.srv.Store.GetAuthKey(e.ctx, storage.DefaultTenant, pemKID); err != nil || k.Status != storage.AuthKeyRevoked {
			t.Errorf("stored key: %+v %v", k, err)
		}

		// Audited as the admin, with kid and alg and never a private key.
		audit := admin.do(http.MethodGet, "/admin/audit-log?page_size=200", nil).want(t, http.StatusOK)
		if strings.Contains(audit.raw, "PRIVATE KEY") {
			t.Errorf("the audit log holds a private key: %s", audit.raw)
		}
		for what, want := range map[string][3]string{
			"create-ES256": {"auth_key.create", made[1].str("kid"), "ES256"},
			"create-RS256": {"auth_key.create", made[2].str("kid"), "RS256"},
			"create-EdDSA": {"auth_key.create", made[3].str("kid"), "EdDSA"},
			"upload-pem":   {"auth_key.create", pemKID, "ES256"},
			"upload-jwk":   {"auth_key.create", "acme-ed-1", "EdDSA"},
			"revoke":       {"auth_key.revoke", pemKID, ""},
		} {
			en := find(t, audit.items(), "request_id", "auth-key-"+what)
			d, _ := en["details"].(map[string]any)
			if en["actor"] != adminID || en["action"] != want[0] || en["target"] != want[1] || d["kid"] != want[1] || d["organization_id"] != org ||
				(want[2] != "" && d["alg"] != want[2]) {
				t.Errorf("audit entry of %s: %v", what, en)
			}
		}
	})
}

// TestSelfServiceAuthKeys: an organization's owner and admin make,
// register, list and revoke its keys; a member may not even list them.
func TestSelfServiceAuthKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		for _, who := range []struct {
			name string
			p    *person
		}{{"owner", tm.owner}, {"admin", tm.adm}} {
			t.Run(who.name, func(t *testing.T) {
				c := who.p.orgAPI(t, tm.org)
				rid := func(what string) callOpt { return requestID("self-key-" + who.name + "-" + what) }
				r := c.do(http.MethodPost, tm.self("/keys"), map[string]any{"alg": "EdDSA"}, rid("create")).want(t, http.StatusCreated)
				wantGeneratedKey(t, r, "EdDSA")
				kid := r.str("kid")
				ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				up := c.do(http.MethodPost, tm.self("/keys"), map[string]any{"public_jwk": jwk(t, &ec.PublicKey, who.name+"-1", "ES256", "")}).want(t, http.StatusCreated)
				if _, ok := up.body["private_key_pem"]; ok || up.str("kid") != who.name+"-1" {
					t.Errorf("registered key: %s", up.raw)
				}
				c.do(http.MethodPost, tm.self("/keys"), map[string]any{"public_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "public_key_pem")

				lr := c.do(http.MethodGet, tm.self("/keys"), nil).want(t, http.StatusOK)
				wantNoKeyMaterial(t, lr)
				find(t, lr.items(), "kid", kid)
				find(t, lr.items(), "kid", up.str("kid"))

				c.do(http.MethodDelete, tm.self("/keys/"+kid), nil, rid("revoke")).want(t, http.StatusNoContent)
				c.do(http.MethodDelete, tm.self("/keys/"+kid), nil).problem(t, http.StatusConflict, "already-revoked", "")
				c.do(http.MethodDelete, tm.self("/keys/key_nope"), nil).problem(t, http.StatusNotFound, "not-found", "")
				if got := find(t, c.all(t, tm.self("/keys"), "kid"), "kid", kid); got["status"] != "revoked" {
					t.Errorf("revoked key: %v", got)
				}

				audit := tm.admin.all(t, "/admin/audit-log", "id")
				for what, action := range map[string]string{"create": "auth_key.create", "revoke": "auth_key.revoke"} {
					en := find(t, audit, "request_id", "self-key-"+who.name+"-"+what)
					if en["actor"] != who.p.id || en["action"] != action || en["target"] != kid {
						t.Errorf("audit entry of the %s's %s: %v", who.name, what, en)
					}
				}
			})
		}

		t.Run("member", func(t *testing.T) {
			key := tm.admin.do(http.MethodPost, tm.path("/keys"), map[string]any{}).want(t, http.StatusCreated).str("kid")
			c := tm.member.orgAPI(t, tm.org)
			for _, w := range []struct {
				method, path string
				body         any
				permission   string
			}{
				{http.MethodGet, tm.self("/keys"), nil, "read:keys"},
				{http.MethodPost, tm.self("/keys"), map[string]any{}, "write:keys"},
				{http.MethodDelete, tm.self("/keys/" + key), nil, "write:keys"},
			} {
				r := c.do(w.method, w.path, w.body).problem(t, http.StatusForbidden, "insufficient-permission", "")
				if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="orgid", error="insufficient_scope", scope="`+w.permission+`"`; got != want {
					t.Errorf("%s %s: WWW-Authenticate %q, want %q", w.method, w.path, got, want)
				}
			}
			if got := find(t, tm.admin.all(t, tm.path("/keys"), "kid"), "kid", key); got["status"] != "active" {
				t.Errorf("the member's refused revocation changed the key: %v", got)
			}
		})

		t.Run("another organization", func(t *testing.T) {
			other := tm.admin.createOrganization(t, map[string]any{"name": "Other"})["id"].(string)
			otherKey := tm.admin.do(http.MethodPost, keysPath(other), map[string]any{}).want(t, http.StatusCreated).str("kid")
			c := tm.owner.orgAPI(t, tm.org)
			c.do(http.MethodGet, "/organizations/"+other+"/keys", nil).problem(t, http.StatusForbidden, "forbidden", "")
			c.do(http.MethodDelete, tm.self("/keys/"+otherKey), nil).problem(t, http.StatusNotFound, "not-found", "")
			c.do(http.MethodDelete, "/organizations/"+other+"/keys/"+otherKey, nil).problem(t, http.StatusForbidden, "forbidden", "")
		})
	})
}
