package server_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// TestIdentityTokenProvisioning: an identity service's first sign-in of a
// user admits them to the key's organization with that organization's JIT
// default roles, and an asserted verified email provisions by its domain
// like every other path (DESIGN §3); an unverified one never does.
func TestIdentityTokenProvisioning(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newIdentityWorld(t, e)
		admin, _ := e.admin(t, storage.DefaultTenant)
		admin.do(http.MethodPut, "/admin/organizations/"+w.org.ID+"/jit/roles", map[string]any{"roles": []string{"admin"}}).want(t, http.StatusOK)
		admin.do(http.MethodPut, "/admin/organizations/"+w.other.ID+"/jit/email-domains", map[string]any{"email_domains": []string{"idp.example.test"}}).want(t, http.StatusOK)
		admin.do(http.MethodPut, "/admin/organizations/"+w.other.ID+"/jit/roles", map[string]any{"roles": []string{"billing_manager"}}).want(t, http.StatusOK)

		signIn := func(sub string, verified bool) string {
			t.Helper()
			c := w.claims(sub, w.nonce(t, w.clientID, w.secret))
			c["email_verified"] = verified
			status, raw, body := w.exchange(t, w.clientID, w.secret, sign(t, jose.ES256, w.ecKey, w.ecKID, c, nil), "")
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %s", status, raw)
			}
			ac := e.verifiedClaims(t, body["access_token"].(string))
			if !slices.Equal(strs(ac["organization_roles"]), []string{"admin"}) {
				t.Fatalf("organization token roles %v, want the JIT default [admin]", ac["organization_roles"])
			}
			return ac["sub"].(string)
		}

		verified := signIn("v-1", true)
		m, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, w.other.ID, verified)
		if err != nil || !slices.Equal(m.Roles, []string{"billing_manager"}) {
			t.Fatalf("verified identity user in the domain's organization: %+v %v", m, err)
		}
		unverified := signIn("u-1", false)
		if _, err := e.srv.Store.GetMembership(e.ctx, storage.DefaultTenant, w.other.ID, unverified); err == nil {
			t.Fatal("an unverified identity user was provisioned by domain")
		}
	})
}
