package server_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// Applications through the APIs: organization-owned applications, JWK Sets
// for private_key_jwt, secret rotation, and m2m applications linked to
// organizations with roles (DESIGN §1, §4), on the management API and on
// the organization self-service API.

var linkKeys = []string{"application_id", "organization_id", "name", "roles", "created_at"}

// appsPath is the management path of orgID's linked applications.
func appsPath(orgID string, rest ...string) string {
	return "/admin/organizations/" + orgID + "/applications" + strings.Join(rest, "")
}

// createApp registers an application through the management API and
// returns the answer.
func (a *api) createApp(t testing.TB, body map[string]any, opts ...callOpt) reply {
	t.Helper()
	return a.do(http.MethodPost, "/admin/applications", body, opts...).want(t, http.StatusCreated)
}

// m2mApp registers a tenant-wide m2m application through the management
// API and returns its client ID and secret.
func (a *api) m2mApp(t testing.TB, name string) (string, string) {
	t.Helper()
	r := a.createApp(t, map[string]any{"name": name, "type": "m2m"})
	return r.str("client_id"), r.str("client_secret")
}

// jwk is key as a JWK (RFC 7517) JSON object.
func jwk(t testing.TB, key any, kid, alg, use string) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jwks(keys ...map[string]any) map[string]any { return map[string]any{"keys": keys} }

// withoutSecret is an application answer as every later read shows it.
func withoutSecret(m map[string]any) map[string]any {
	m = maps.Clone(m)
	delete(m, "client_secret")
	return m
}

// orgClientToken asks for an organization token for orgID with client
// credentials (DESIGN §3, way 4).
func (e *env) orgClientToken(t testing.TB, clientID, secret, orgID string) (int, map[string]any) {
	t.Helper()
	status, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/token", clientID, secret, url.Values{
		"grant_type": {"client_credentials"}, "organization_id": {orgID},
	})
	return status, body
}

// TestAdminOwnedApplications: an application with organization_id is that
// organization's own; an owned m2m application is linked to it with its
// roles in the same transaction, and what is refused creates nothing.
func TestAdminOwnedApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.advance(1234567 * time.Nanosecond) // finer than the stores keep
		admin, adminID := e.admin(t, storage.DefaultTenant)
		acme := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)

		r := admin.createApp(t, map[string]any{"name": "Acme robot", "type": "m2m", "organization_id": acme, "roles": []string{"member", "admin"}}, requestID("create-owned"))
		wantKeys(t, "created owned m2m application", r.body, append(applicationKeys, "client_secret", "organization_id")...)
		robot := r.str("client_id")
		if robot == "" || r.str("id") != robot || r.str("organization_id") != acme || r.str("type") != "m2m" || len(r.str("client_secret")) < 32 ||
			!reflect.DeepEqual(r.body["tenant_roles"], []any{}) {
			t.Errorf("created owned m2m application: %s", r.raw)
		}
		if got := admin.do(http.MethodGet, "/admin/applications/"+robot, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, withoutSecret(r.body)) {
			t.Errorf("GET %v\nPOST answered %v", got, r.body)
		}
		// Linked from its creation, at its creation, with its roles.
		links := admin.all(t, appsPath(acme), "application_id")
		l := find(t, links, "application_id", robot)
		wantKeys(t, "link", l, linkKeys...)
		if l["organization_id"] != acme || l["name"] != "Acme robot" || !reflect.DeepEqual(l["roles"], []any{"admin", "member"}) || l["created_at"] != r.body["created_at"] {
			t.Errorf("the owned application's link: %v (created %s)", l, r.raw)
		}
		// Its secret gets organization tokens for its organization.
		status, tok := e.orgClientToken(t, robot, r.str("client_secret"), acme)
		if status != http.StatusOK {
			t.Errorf("organization token of the owned application: %d %v", status, tok)
		}
		en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "create-owned")
		if en["action"] != "application.create" || en["actor"] != adminID || en["target"] != robot ||
			!reflect.DeepEqual(obj(t, en["details"])["roles"], []any{"admin", "member"}) || obj(t, en["details"])["organization_id"] != acme {
			t.Errorf("audit entry of the creation: %v", en)
		}

		// Without roles it is linked holding none; an owned web application
		// is not linked (only m2m applications are).
		e.advance(time.Second)
		bare := admin.createApp(t, map[string]any{"name": "Bare robot", "type": "m2m", "organization_id": acme}).str("client_id")
		web := admin.createApp(t, map[string]any{"name": "Acme portal", "type": "web", "organization_id": acme, "redirect_uris": []string{"https://acme.example/cb"}})
		wantKeys(t, "created owned web application", web.body, append(applicationKeys, "client_secret", "organization_id")...)
		links = admin.all(t, appsPath(acme), "application_id")
		if got := ids(links, "application_id"); !slices.Equal(got, []string{robot, bare}) {
			t.Errorf("links of the organization: %v, want [%s %s]", got, robot, bare)
		}
		if got := find(t, links, "application_id", bare)["roles"]; !reflect.DeepEqual(got, []any{}) {
			t.Errorf("roles of an owned m2m application created without roles: %v", got)
		}

		// Refusals write nothing: no application, no link, no audit entry.
		snapshot := func() string {
			return mustJSONString(t, []any{admin.all(t, "/admin/applications", "id"), admin.all(t, appsPath(acme), "application_id"), admin.all(t, "/admin/audit-log", "id")})
		}
		before := snapshot()
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no such organization", map[string]any{"name": "R", "type": "m2m", "organization_id": "org_nosuchorg", "roles": []string{"member"}}, "organization_id"},
			{"roles of a tenant-wide application", map[string]any{"name": "R", "type": "m2m", "roles": []string{"member"}}, "roles"},
			{"roles of a web application", map[string]any{"name": "R", "type": "web", "organization_id": acme, "redirect_uris": []string{"https://r.example/cb"}, "roles": []string{"member"}}, "roles"},
			{"an unknown role", map[string]any{"name": "R", "type": "m2m", "organization_id": acme, "roles": []string{"member", "wizard"}}, "roles"},
			{"tenant roles of an owned application", map[string]any{"name": "R", "type": "m2m", "organization_id": acme, "tenant_roles": []string{"admin"}}, "tenant_roles"},
		} {
			t.Run(c.name, func(t *testing.T) {
				admin.do(http.MethodPost, "/admin/applications", c.body).problem(t, http.StatusUnprocessableEntity, "invalid-value", c.field)
			})
		}
		if after := snapshot(); after != before {
			t.Errorf("refused creations changed something:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestAdminApplicationJWKS: an application that registers a JWK Set gets
// no secret and shows its keys; only public signing keys of the allowed
// kinds, each with its own kid, are taken.
func TestAdminApplicationJWKS(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)

		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ed, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
		set := jwks(jwk(t, &ec.PublicKey, "ec-1", "ES256", "sig"), jwk(t, ed, "ed-1", "", ""), jwk(t, &rsa2048.PublicKey, "rsa-1", "RS256", ""))

		r := admin.createApp(t, map[string]any{"name": "Signed portal", "type": "web", "redirect_uris": []string{"https://signed.example/cb"}, "jwks": set})
		wantKeys(t, "application with a JWK Set", r.body, append(applicationKeys, "jwks")...)
		id := r.str("client_id")
		if !reflect.DeepEqual(r.body["jwks"], jsonValue(set)) {
			t.Errorf("jwks = %v, want %v", r.body["jwks"], jsonValue(set))
		}
		if got := admin.do(http.MethodGet, "/admin/applications/"+id, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, r.body) {
			t.Errorf("GET %v\nPOST answered %v", got, r.body)
		}
		stored, err := e.srv.Store.GetApplication(e.ctx, storage.DefaultTenant, id)
		if err != nil || stored.SecretHash != nil || len(stored.JWKS) == 0 {
			t.Errorf("stored application: secret hash %x, jwks %s, %v", stored.SecretHash, stored.JWKS, err)
		}
		// Nothing to rotate.
		admin.do(http.MethodPost, "/admin/applications/"+id+"/secret", nil).problem(t, http.StatusConflict, "no-client-secret", "")

		m2m := admin.createApp(t, map[string]any{"name": "Signed robot", "type": "m2m", "jwks": jwks(jwk(t, &ec.PublicKey, "only", "", "sig"))})
		wantKeys(t, "m2m application with a JWK Set", m2m.body, append(applicationKeys, "jwks")...)

		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
		ecKey := jwk(t, &ec.PublicKey, "k", "", "")
		var many []map[string]any
		for range 11 {
			many = append(many, ecKey)
		}
		unknownKty := maps.Clone(ecKey)
		unknownKty["kty"] = "XYZ"
		noKid := maps.Clone(ecKey)
		delete(noKid, "kid")
		before := mustJSONString(t, admin.all(t, "/admin/applications", "id"))
		for _, c := range []struct {
			name    string
			typ     string
			jwks    any
			invalid bool // breaks the description too
		}{
			{"a private EC key", "m2m", jwks(jwk(t, ec, "k", "", "")), false},
			{"a private Ed25519 key", "m2m", jwks(jwk(t, edPriv, "k", "", "")), false},
			{"a symmetric key", "m2m", jwks(jwk(t, []byte("0123456789abcdef0123456789abcdef"), "k", "", "")), false},
			{"RSA of 1024 bits", "m2m", jwks(jwk(t, &rsa1024.PublicKey, "k", "", "")), false},
			{"EC on P-384", "m2m", jwks(jwk(t, &p384.PublicKey, "k", "", "")), false},
			{"another key's algorithm", "m2m", jwks(jwk(t, &ec.PublicKey, "k", "RS256", "")), false},
			{"an encryption key", "m2m", jwks(jwk(t, &ec.PublicKey, "k", "", "enc")), false},
			{"one kid for two keys", "m2m", jwks(jwk(t, &ec.PublicKey, "k", "", ""), jwk(t, ed, "k", "", "")), false},
			{"an unknown key type", "m2m", jwks(unknownKty), false},
			{"a spa", "spa", jwks(ecKey), false},
			{"a native application", "native", jwks(ecKey), false},
			{"a key without kid", "m2m", jwks(noKid), true},
			{"no keys", "m2m", jwks(), true},
			{"eleven keys", "m2m", map[string]any{"keys": many}, true},
			{"not an object", "m2m", "keys", true},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := map[string]any{"name": "Signed", "type": c.typ, "jwks": c.jwks}
				if c.typ != "m2m" {
					body["redirect_uris"] = []string{"https://signed.example/cb"}
					if c.typ == "native" {
						body["redirect_uris"] = []string{"com.example.signed:/cb"}
					}
				}
				var opts []callOpt
				if c.invalid {
					opts = append(opts, invalid())
				}
				r := admin.do(http.MethodPost, "/admin/applications", body, opts...).problem(t, http.StatusUnprocessableEntity, "invalid-value", "jwks")
				if set, ok := c.jwks.(map[string]any); ok {
					for _, k := range set["keys"].([]map[string]any) {
						for _, m := range []string{"d", "k"} {
							if v, _ := k[m].(string); v != "" && strings.Contains(r.raw, v) {
								t.Errorf("the refusal echoes private key material: %s", r.raw)
							}
						}
					}
				}
			})
		}
		if after := mustJSONString(t, admin.all(t, "/admin/applications", "id")); after != before {
			t.Errorf("refused JWK Sets created applications")
		}
	})
}

// TestAdminApplicationSecretRotation: a rotation answers the new secret
// once; the old one is refused at the token endpoint; it is audited
// without the secret; applications without a secret are 409.
func TestAdminApplicationSecretRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, adminID := e.admin(t, storage.DefaultTenant)
		mgmt := e.issuer(storage.DefaultTenant) + "/api"

		app := admin.createApp(t, map[string]any{"name": "Robot", "type": "m2m", "tenant_roles": []string{"admin"}})
		id, first := app.str("client_id"), app.str("client_secret")
		if status, tok := e.clientToken(t, storage.DefaultTenant, id, first, mgmt); status != http.StatusOK {
			t.Fatalf("token with the first secret: %d %v", status, tok)
		}

		r := admin.do(http.MethodPost, "/admin/applications/"+id+"/secret", nil, requestID("rotate")).want(t, http.StatusOK)
		wantKeys(t, "rotation answer", r.body, "client_id", "client_secret")
		second := r.str("client_secret")
		if r.str("client_id") != id || len(second) < 32 || second == first {
			t.Fatalf("rotation answered %s", r.raw)
		}
		// This replica forgets the old secret at once (others within
		// their client cache's 1 s).
		status, tok := e.clientToken(t, storage.DefaultTenant, id, first, mgmt)
		wantError(t, status, tok, http.StatusUnauthorized, "invalid_client")
		if status, tok := e.clientToken(t, storage.DefaultTenant, id, second, mgmt); status != http.StatusOK {
			t.Fatalf("token with the new secret: %d %v", status, tok)
		}

		// The secret is shown once: not by GET, not in the list, not in
		// the audit log.
		if got := admin.do(http.MethodGet, "/admin/applications/"+id, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, withoutSecret(app.body)) {
			t.Errorf("GET after the rotation %v\nwant %v", got, withoutSecret(app.body))
		}
		audit := admin.all(t, "/admin/audit-log", "id")
		en := find(t, audit, "request_id", "rotate")
		if en["action"] != "application.rotate_secret" || en["actor"] != adminID || en["target"] != id {
			t.Errorf("audit entry of the rotation: %v", en)
		}
		for _, secret := range []string{first, second} {
			if raw := mustJSONString(t, audit) + admin.do(http.MethodGet, "/admin/applications", nil).raw; strings.Contains(raw, secret) {
				t.Error("a secret shows in the audit log or the application list")
			}
		}

		// Again: the second secret dies in turn.
		third := admin.do(http.MethodPost, "/admin/applications/"+id+"/secret", nil).want(t, http.StatusOK).str("client_secret")
		status, tok = e.clientToken(t, storage.DefaultTenant, id, second, mgmt)
		wantError(t, status, tok, http.StatusUnauthorized, "invalid_client")
		if status, tok := e.clientToken(t, storage.DefaultTenant, id, third, mgmt); status != http.StatusOK {
			t.Fatalf("token with the third secret: %d %v", status, tok)
		}

		// A web application's secret rotates too; public clients have none.
		web := admin.createApp(t, map[string]any{"name": "Portal", "type": "web", "redirect_uris": []string{"https://portal.example/cb"}})
		admin.do(http.MethodPost, "/admin/applications/"+web.str("id")+"/secret", nil).want(t, http.StatusOK)
		spa := admin.createApp(t, map[string]any{"name": "Dashboard", "type": "spa", "redirect_uris": []string{"https://dash.example/cb"}})
		native := admin.createApp(t, map[string]any{"name": "Phone", "type": "native", "redirect_uris": []string{"com.example.phone:/cb"}})
		before := mustJSONString(t, admin.all(t, "/admin/audit-log", "id"))
		for _, public := range []string{spa.str("id"), native.str("id")} {
			admin.do(http.MethodPost, "/admin/applications/"+public+"/secret", nil).problem(t, http.StatusConflict, "no-client-secret", "")
		}
		admin.do(http.MethodPost, "/admin/applications/nosuchapp/secret", nil).problem(t, http.StatusNotFound, "not-found", "")
		if after := mustJSONString(t, admin.all(t, "/admin/audit-log", "id")); after != before {
			t.Error("refused rotations were audited")
		}
	})
}

// TestAdminApplicationLinks: link m2m applications to an organization with
// roles, list the links by pages, replace their roles, unlink; refusals
// name the field; every change is audited; the link is what the token
// endpoint goes by.
func TestAdminApplicationLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.advance(1234567 * time.Nanosecond) // finer than the stores keep
		admin, adminID := e.admin(t, storage.DefaultTenant)
		acme := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		globex := admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		var robots, secrets []string
		for _, name := range []string{"Robot 1", "Robot 2", "Robot 3", "Robot 4", "Robot 5"} {
			id, secret := admin.m2mApp(t, name)
			robots, secrets = append(robots, id), append(secrets, secret)
		}
		web := admin.createApp(t, map[string]any{"name": "Portal", "type": "web", "redirect_uris": []string{"https://portal.example/cb"}}).str("id")
		globexRobot := admin.createApp(t, map[string]any{"name": "Globex robot", "type": "m2m", "organization_id": globex}).str("id")

		// Not linked yet: no organization token.
		status, tok := e.orgClientToken(t, robots[0], secrets[0], acme)
		wantError(t, status, tok, http.StatusForbidden, "access_denied")

		r := admin.do(http.MethodPost, appsPath(acme), map[string]any{"application_id": robots[0], "roles": []string{"member", "admin"}}, requestID("link")).want(t, http.StatusCreated)
		wantKeys(t, "link", r.body, linkKeys...)
		if r.str("application_id") != robots[0] || r.str("organization_id") != acme || r.str("name") != "Robot 1" ||
			!reflect.DeepEqual(r.body["roles"], []any{"admin", "member"}) {
			t.Errorf("link answer: %s", r.raw)
		}
		wantTime(t, "created_at", r.body["created_at"])
		first := r.body
		if got := admin.do(http.MethodGet, appsPath(acme), nil).want(t, http.StatusOK); !reflect.DeepEqual(got.items(), []map[string]any{first}) || got.body["next_page_token"] != "" {
			t.Errorf("links: %s, want [%v]", got.raw, first)
		}
		if status, tok := e.orgClientToken(t, robots[0], secrets[0], acme); status != http.StatusOK {
			t.Errorf("organization token of a linked application: %d %v", status, tok)
		}

		// Refusals, naming the field; none writes anything.
		snapshot := func() string {
			return mustJSONString(t, []any{admin.all(t, appsPath(acme), "application_id"), admin.all(t, "/admin/audit-log", "id")})
		}
		before := snapshot()
		admin.do(http.MethodPost, appsPath(acme), map[string]any{"application_id": robots[0]}).problem(t, http.StatusConflict, "already-exists", "application_id")
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
			opts  []callOpt
		}{
			{"a web application", map[string]any{"application_id": web}, "application_id", nil},
			{"no such application", map[string]any{"application_id": "nosuchapp"}, "application_id", nil},
			{"another organization's application", map[string]any{"application_id": globexRobot}, "application_id", nil},
			{"no application", map[string]any{"roles": []string{"member"}}, "application_id", []callOpt{invalid()}},
			{"an unknown role", map[string]any{"application_id": robots[1], "roles": []string{"wizard"}}, "roles", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				admin.do(http.MethodPost, appsPath(acme), c.body, c.opts...).problem(t, http.StatusUnprocessableEntity, "invalid-value", c.field)
			})
		}
		admin.do(http.MethodPost, appsPath("org_nosuchorg"), map[string]any{"application_id": robots[1]}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, appsPath("org_nosuchorg"), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodPost, appsPath(acme), map[string]any{"application_id": robots[1], "tenant_roles": []string{"admin"}}, invalid()).
			problem(t, http.StatusBadRequest, "malformed-request", "tenant_roles")
		if after := snapshot(); after != before {
			t.Errorf("refused links changed something:\nbefore %s\nafter  %s", before, after)
		}

		// More links, without roles: they hold none. Lists are oldest link
		// first, by pages.
		for _, id := range robots[1:] {
			e.advance(time.Second)
			r := admin.do(http.MethodPost, appsPath(acme), map[string]any{"application_id": id}).want(t, http.StatusCreated)
			if !reflect.DeepEqual(r.body["roles"], []any{}) {
				t.Errorf("link without roles: %s", r.raw)
			}
		}
		all := admin.do(http.MethodGet, appsPath(acme), nil).want(t, http.StatusOK).items()
		if got := ids(all, "application_id"); !slices.Equal(got, robots) {
			t.Errorf("links, oldest first: %v, want %v", got, robots)
		}
		for _, l := range all {
			wantKeys(t, "listed link", l, linkKeys...)
		}
		paged, pages := listAll(t, admin, appsPath(acme), "application_id", 2)
		if !reflect.DeepEqual(paged, all) || pages != 3 {
			t.Errorf("links by pages of 2 (%d pages): %v\nwant %v", pages, paged, all)
		}
		admin.do(http.MethodGet, appsPath(acme)+"?page_token=garbage", nil).problem(t, http.StatusBadRequest, "invalid-parameter", "page_token")

		// Replace roles: the answer is the link, still linked when it was.
		r = admin.do(http.MethodPut, appsPath(acme, "/", robots[1], "/roles"), map[string]any{"roles": []string{"billing_manager", "member"}}, requestID("link-roles")).want(t, http.StatusOK)
		wantKeys(t, "link", r.body, linkKeys...)
		want := maps.Clone(find(t, all, "application_id", robots[1]))
		want["roles"] = []any{"billing_manager", "member"}
		if !reflect.DeepEqual(r.body, want) {
			t.Errorf("PUT roles answered %v, want %v", r.body, want)
		}
		if got := find(t, admin.all(t, appsPath(acme), "application_id"), "application_id", robots[1]); !reflect.DeepEqual(got, want) {
			t.Errorf("listed after PUT roles: %v, want %v", got, want)
		}
		r = admin.do(http.MethodPut, appsPath(acme, "/", robots[0], "/roles"), map[string]any{"roles": []string{}}).want(t, http.StatusOK)
		if !reflect.DeepEqual(r.body["roles"], []any{}) {
			t.Errorf("PUT roles [] answered %s", r.raw)
		}
		before = snapshot()
		admin.do(http.MethodPut, appsPath(acme, "/", robots[1], "/roles"), map[string]any{"roles": []string{"wizard"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPut, appsPath(acme, "/", robots[1], "/roles"), map[string]any{}, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPut, appsPath(acme, "/", web, "/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodPut, appsPath(acme, "/", globexRobot, "/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodPut, appsPath("org_nosuchorg", "/", robots[1], "/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusNotFound, "not-found", "")
		if after := snapshot(); after != before {
			t.Errorf("refused role changes changed something:\nbefore %s\nafter  %s", before, after)
		}

		// One application, several organizations.
		admin.do(http.MethodPost, appsPath(globex), map[string]any{"application_id": robots[0], "roles": []string{"member"}}).want(t, http.StatusCreated)
		if got := ids(admin.all(t, appsPath(globex), "application_id"), "application_id"); !slices.Equal(got, []string{globexRobot, robots[0]}) {
			t.Errorf("links of Globex: %v", got)
		}

		// Unlink: the application stays, its link goes, and with it its
		// organization tokens (within the provider's 1 s access cache).
		if r := admin.do(http.MethodDelete, appsPath(acme, "/", robots[0]), nil, requestID("unlink")).want(t, http.StatusNoContent); r.raw != "" {
			t.Errorf("DELETE answered a body: %s", r.raw)
		}
		admin.do(http.MethodDelete, appsPath(acme, "/", robots[0]), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, appsPath(acme, "/", web), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, appsPath("org_nosuchorg", "/", robots[1]), nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/applications/"+robots[0], nil).want(t, http.StatusOK)
		e.advance(2 * time.Second)
		status, tok = e.orgClientToken(t, robots[0], secrets[0], acme)
		wantError(t, status, tok, http.StatusForbidden, "access_denied")
		if status, tok := e.orgClientToken(t, robots[0], secrets[0], globex); status != http.StatusOK {
			t.Errorf("organization token for the organization still linked: %d %v", status, tok)
		}
		// Linked again, it holds what the new link says.
		r = admin.do(http.MethodPost, appsPath(acme), map[string]any{"application_id": robots[0], "roles": []string{"member"}}).want(t, http.StatusCreated)
		if !reflect.DeepEqual(r.body["roles"], []any{"member"}) {
			t.Errorf("linked again: %s", r.raw)
		}

		// Deleting an application takes its links along.
		admin.do(http.MethodDelete, "/admin/applications/"+robots[3], nil).want(t, http.StatusNoContent)
		if got := ids(admin.all(t, appsPath(acme), "application_id"), "application_id"); slices.Contains(got, robots[3]) || len(got) != 4 {
			t.Errorf("links after the application's deletion: %v", got)
		}

		// Audited as the admin client's, naming the application and the
		// organization.
		audit := admin.all(t, "/admin/audit-log", "id")
		for rid, c := range map[string]struct {
			action, target string
			roles          any
		}{
			"link":       {"application.link", robots[0], []any{"admin", "member"}},
			"link-roles": {"application.link_roles", robots[1], []any{"billing_manager", "member"}},
			"unlink":     {"application.unlink", robots[0], nil},
		} {
			en := find(t, audit, "request_id", rid)
			d := obj(t, en["details"])
			if en["action"] != c.action || en["actor"] != adminID || en["target"] != c.target || d["organization_id"] != acme || !reflect.DeepEqual(d["roles"], c.roles) {
				t.Errorf("audit entry of %s: %v", rid, en)
			}
		}
	})
}

// TestSelfServiceApplications: an organization's owner and admin create,
// read, rotate and delete the organization's own applications and manage
// their links; a tenant-wide application's link is theirs to see, not to
// change; another organization's application does not exist for them.
func TestSelfServiceApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		for _, who := range []struct {
			name string
			p    *person
		}{{"owner", tm.owner}, {"admin", tm.adm}} {
			t.Run(who.name, func(t *testing.T) {
				c := who.p.orgAPI(t, tm.org)
				rid := func(what string) callOpt { return requestID("self-app-" + who.name + "-" + what) }

				// An m2m application of the organization, linked with roles.
				r := c.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": who.name + " robot", "type": "m2m", "roles": []string{"member"}}, rid("create")).want(t, http.StatusCreated)
				wantKeys(t, "created application", r.body, append(applicationKeys, "client_secret", "organization_id")...)
				robot, secret := r.str("client_id"), r.str("client_secret")
				if r.str("organization_id") != tm.org || len(secret) < 32 || !reflect.DeepEqual(r.body["tenant_roles"], []any{}) {
					t.Errorf("created application: %s", r.raw)
				}
				if got := c.do(http.MethodGet, tm.self("/owned-applications/"+robot), nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, withoutSecret(r.body)) {
					t.Errorf("GET %v\nPOST answered %v", got, r.body)
				}
				if got := tm.admin.do(http.MethodGet, "/admin/applications/"+robot, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, withoutSecret(r.body)) {
					t.Errorf("management GET %v\nself-service POST answered %v", got, r.body)
				}
				if status, tok := e.orgClientToken(t, robot, secret, tm.org); status != http.StatusOK {
					t.Errorf("organization token of the application: %d %v", status, tok)
				}
				link := find(t, c.all(t, tm.self("/applications"), "application_id"), "application_id", robot)
				if !reflect.DeepEqual(link["roles"], []any{"member"}) || link["organization_id"] != tm.org {
					t.Errorf("the application's link: %v", link)
				}

				// A web application too; the list is the organization's own.
				e.advance(time.Second)
				web := c.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": who.name + " portal", "type": "web", "redirect_uris": []string{"https://acme.example/cb"}}).want(t, http.StatusCreated)
				owned := c.all(t, tm.self("/owned-applications"), "id")
				for _, a := range owned {
					wantKeys(t, "listed application", a, append(applicationKeys, "organization_id")...)
					if a["organization_id"] != tm.org {
						t.Errorf("listed application of another owner: %v", a)
					}
				}
				if got := ids(owned, "id"); !slices.Contains(got, robot) || !slices.Contains(got, web.str("id")) {
					t.Errorf("owned applications: %v", got)
				}
				if paged, _ := listAll(t, c, tm.self("/owned-applications"), "id", 1); !reflect.DeepEqual(paged, owned) {
					t.Errorf("owned applications by pages of 1: %v, want %v", paged, owned)
				}

				// Rotation: the new secret once, the old one dead.
				r = c.do(http.MethodPost, tm.self("/owned-applications/"+robot+"/secret"), nil, rid("rotate")).want(t, http.StatusOK)
				wantKeys(t, "rotation answer", r.body, "client_id", "client_secret")
				if r.str("client_id") != robot || r.str("client_secret") == secret {
					t.Errorf("rotation answered %s", r.raw)
				}
				status, tok := e.orgClientToken(t, robot, secret, tm.org)
				wantError(t, status, tok, http.StatusUnauthorized, "invalid_client")
				secret = r.str("client_secret")
				if status, tok := e.orgClientToken(t, robot, secret, tm.org); status != http.StatusOK {
					t.Errorf("organization token with the new secret: %d %v", status, tok)
				}

				// The link: roles, unlink, link again.
				r = c.do(http.MethodPut, tm.self("/applications/"+robot+"/roles"), map[string]any{"roles": []string{"admin", "member"}}, rid("roles")).want(t, http.StatusOK)
				wantKeys(t, "link", r.body, linkKeys...)
				if !reflect.DeepEqual(r.body["roles"], []any{"admin", "member"}) || r.body["created_at"] != link["created_at"] {
					t.Errorf("PUT roles answered %s", r.raw)
				}
				c.do(http.MethodDelete, tm.self("/applications/"+robot), nil, rid("unlink")).want(t, http.StatusNoContent)
				c.do(http.MethodDelete, tm.self("/applications/"+robot), nil).problem(t, http.StatusNotFound, "not-found", "")
				r = c.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": robot, "roles": []string{"member"}}, rid("link")).want(t, http.StatusCreated)
				wantKeys(t, "link", r.body, linkKeys...)
				c.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": robot}).problem(t, http.StatusConflict, "already-exists", "application_id")
				c.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": web.str("id")}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "application_id")

				// Delete.
				c.do(http.MethodDelete, tm.self("/owned-applications/"+web.str("id")), nil, rid("delete")).want(t, http.StatusNoContent)
				c.do(http.MethodGet, tm.self("/owned-applications/"+web.str("id")), nil).problem(t, http.StatusNotFound, "not-found", "")
				c.do(http.MethodDelete, tm.self("/owned-applications/"+web.str("id")), nil).problem(t, http.StatusNotFound, "not-found", "")

				// Audited as the person who made the change.
				audit := tm.admin.all(t, "/admin/audit-log", "id")
				for what, action := range map[string]string{
					"create": "application.create", "rotate": "application.rotate_secret", "roles": "application.link_roles",
					"unlink": "application.unlink", "link": "application.link", "delete": "application.delete",
				} {
					en := find(t, audit, "request_id", "self-app-"+who.name+"-"+what)
					if en["actor"] != who.p.id || en["action"] != action {
						t.Errorf("audit entry of the %s's %s: %v", who.name, what, en)
					}
				}
			})
		}

		owner := tm.owner.orgAPI(t, tm.org)
		adm := tm.adm.orgAPI(t, tm.org)

		t.Run("neither tenant-wide nor another organization's applications", func(t *testing.T) {
			// A tenant-wide application the tenant admin linked: listed,
			// but its link is the tenant admin's.
			tenantRobot, _ := tm.admin.m2mApp(t, "Tenant robot")
			tm.admin.do(http.MethodPost, tm.path("/applications"), map[string]any{"application_id": tenantRobot, "roles": []string{"member"}}).want(t, http.StatusCreated)
			if l := find(t, owner.all(t, tm.self("/applications"), "application_id"), "application_id", tenantRobot); l["name"] != "Tenant robot" {
				t.Errorf("the tenant-wide application's link: %v", l)
			}
			unlinked, _ := tm.admin.m2mApp(t, "Unlinked robot")
			globex := tm.admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
			globexRobot := tm.admin.createApp(t, map[string]any{"name": "Globex robot", "type": "m2m", "organization_id": globex}).str("id")

			snap := teamSnapshot(tm)
			before := snap(t)
			owner.do(http.MethodPut, tm.self("/applications/"+tenantRobot+"/roles"), map[string]any{"roles": []string{}}).problem(t, http.StatusForbidden, "forbidden", "")
			owner.do(http.MethodDelete, tm.self("/applications/"+tenantRobot), nil).problem(t, http.StatusForbidden, "forbidden", "")
			// Linked but tenant-wide, unlinked, another organization's,
			// none at all: one and the same answer to each call.
			answers := map[string][]string{}
			for _, id := range []string{tenantRobot, unlinked, globexRobot, "nosuchapp"} {
				for what, call := range map[string]struct{ method, path string }{
					"get":    {http.MethodGet, "/owned-applications/" + id},
					"delete": {http.MethodDelete, "/owned-applications/" + id},
					"rotate": {http.MethodPost, "/owned-applications/" + id + "/secret"},
				} {
					r := owner.do(call.method, tm.self(call.path), nil, requestID("probe")).problem(t, http.StatusNotFound, "not-found", "")
					answers[what] = append(answers[what], r.raw)
				}
				r := owner.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": id}, requestID("probe")).problem(t, http.StatusUnprocessableEntity, "invalid-value", "application_id")
				answers["link"] = append(answers["link"], strings.ReplaceAll(r.raw, id, "ID"))
			}
			for what, raws := range answers {
				for _, raw := range raws[1:] {
					if raw != raws[0] {
						t.Errorf("%s answers differently:\n%s\n%s", what, raws[0], raw)
					}
				}
			}
			owner.do(http.MethodPut, tm.self("/applications/"+unlinked+"/roles"), map[string]any{"roles": []string{}}).problem(t, http.StatusNotFound, "not-found", "")
			owner.do(http.MethodDelete, tm.self("/applications/"+globexRobot), nil).problem(t, http.StatusNotFound, "not-found", "")
			if got := ids(owner.all(t, tm.self("/owned-applications"), "id"), "id"); slices.Contains(got, tenantRobot) || slices.Contains(got, globexRobot) {
				t.Errorf("owned applications list others': %v", got)
			}
			// No tenant roles, no other owner: those fields are not taken.
			owner.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Sneaky", "type": "m2m", "tenant_roles": []string{"admin"}}, invalid()).
				problem(t, http.StatusBadRequest, "malformed-request", "tenant_roles")
			owner.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Sneaky", "type": "m2m", "organization_id": globex}, invalid()).
				problem(t, http.StatusBadRequest, "malformed-request", "organization_id")
			wantSameSnapshot(t, before, snap(t))
			if got := find(t, tm.admin.all(t, tm.path("/applications"), "application_id"), "application_id", tenantRobot); !reflect.DeepEqual(got["roles"], []any{"member"}) {
				t.Errorf("the tenant-wide application's link after refusals: %v", got)
			}
		})

		t.Run("an admin grants and touches no more than they hold", func(t *testing.T) {
			apps := func() string {
				return mustJSONString(t, []any{tm.admin.all(t, "/admin/applications", "id"), tm.admin.all(t, tm.path("/applications"), "application_id")})
			}
			before := apps()
			adm.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Usurper", "type": "m2m", "roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
			if after := apps(); after != before {
				t.Errorf("a refused creation created something:\nbefore %s\nafter  %s", before, after)
			}
			// The owner makes an application with the role owner: the admin
			// may neither learn its secret, nor change, unlink or delete it.
			strong := owner.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Strong robot", "type": "m2m", "roles": []string{"owner"}}).want(t, http.StatusCreated).str("id")
			weak := owner.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Weak robot", "type": "m2m"}).want(t, http.StatusCreated).str("id")
			before = apps()
			adm.do(http.MethodPost, tm.self("/owned-applications/"+strong+"/secret"), nil).problem(t, http.StatusForbidden, "forbidden", "")
			adm.do(http.MethodDelete, tm.self("/owned-applications/"+strong), nil).problem(t, http.StatusForbidden, "forbidden", "")
			adm.do(http.MethodPut, tm.self("/applications/"+strong+"/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusForbidden, "forbidden", "")
			adm.do(http.MethodDelete, tm.self("/applications/"+strong), nil).problem(t, http.StatusForbidden, "forbidden", "")
			adm.do(http.MethodPut, tm.self("/applications/"+weak+"/roles"), map[string]any{"roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
			adm.do(http.MethodDelete, tm.self("/applications/"+weak), nil).want(t, http.StatusNoContent)
			adm.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": weak, "roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
			adm.do(http.MethodPost, tm.self("/applications"), map[string]any{"application_id": weak, "roles": []string{"admin"}}).want(t, http.StatusCreated)
			if l := find(t, tm.admin.all(t, tm.path("/applications"), "application_id"), "application_id", strong); !reflect.DeepEqual(l["roles"], []any{"owner"}) {
				t.Errorf("the strong application's link after the refusals: %v", l)
			}
			// The owner may.
			owner.do(http.MethodPost, tm.self("/owned-applications/"+strong+"/secret"), nil).want(t, http.StatusOK)
			owner.do(http.MethodDelete, tm.self("/owned-applications/"+strong), nil).want(t, http.StatusNoContent)
		})

		t.Run("a member may not", func(t *testing.T) {
			robot := owner.do(http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Member's robot", "type": "m2m"}).want(t, http.StatusCreated).str("id")
			c := tm.member.orgAPI(t, tm.org)
			snap := teamSnapshot(tm)
			before := snap(t)
			for _, w := range []struct {
				method, path string
				body         any
				permission   string
			}{
				{http.MethodGet, tm.self("/applications"), nil, "read:applications"},
				{http.MethodPost, tm.self("/applications"), map[string]any{"application_id": robot}, "write:applications"},
				{http.MethodPut, tm.self("/applications/" + robot + "/roles"), map[string]any{"roles": []string{}}, "write:applications"},
				{http.MethodDelete, tm.self("/applications/" + robot), nil, "write:applications"},
				{http.MethodGet, tm.self("/owned-applications"), nil, "read:applications"},
				{http.MethodPost, tm.self("/owned-applications"), map[string]any{"name": "Mine", "type": "m2m"}, "write:applications"},
				{http.MethodGet, tm.self("/owned-applications/" + robot), nil, "read:applications"},
				{http.MethodDelete, tm.self("/owned-applications/" + robot), nil, "write:applications"},
				{http.MethodPost, tm.self("/owned-applications/" + robot + "/secret"), nil, "write:applications"},
			} {
				r := c.do(w.method, w.path, w.body).problem(t, http.StatusForbidden, "insufficient-permission", "")
				if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="orgid", error="insufficient_scope", scope="`+w.permission+`"`; got != want {
					t.Errorf("%s %s: WWW-Authenticate %q, want %q", w.method, w.path, got, want)
				}
			}
			wantSameSnapshot(t, before, snap(t))
		})
	})
}
