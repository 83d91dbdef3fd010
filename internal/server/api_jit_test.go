package server_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// Just-in-time provisioning rules through the APIs (DESIGN §3, §4): an
// organization's email domains and default roles.

func jitDomains(t testing.TB, c *api, path string) []string {
	t.Helper()
	r := c.do(http.MethodGet, path+"/jit/email-domains", nil).want(t, http.StatusOK)
	wantKeys(t, "jit email domains", r.body, "email_domains")
	return strs(r.body["email_domains"])
}

func jitRoles(t testing.TB, c *api, path string) []string {
	t.Helper()
	r := c.do(http.MethodGet, path+"/jit/roles", nil).want(t, http.StatusOK)
	wantKeys(t, "jit roles", r.body, "roles")
	return strs(r.body["roles"])
}

// TestJITEmailDomains: domains are normalised, sorted and deduplicated;
// bad, public and another organization's domains are refused naming the
// field, and nothing is written; an empty list clears them.
func TestJITEmailDomains(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		acme := "/admin/organizations/" + admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		globex := "/admin/organizations/" + admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		other := newTenant(t, e, admin, "other")

		if r := admin.do(http.MethodGet, acme+"/jit/email-domains", nil).want(t, http.StatusOK); r.raw != `{"email_domains":[]}`+"\n" {
			t.Errorf("domains of a new organization: %s", r.raw)
		}
		r := admin.do(http.MethodPut, acme+"/jit/email-domains", map[string]any{
			"email_domains": []string{"Acme.TEST", "bücher.example", "acme.test", "sub.acme.test."},
		}, requestID("jit-domains")).want(t, http.StatusOK)
		want := []string{"acme.test", "sub.acme.test", "xn--bcher-kva.example"}
		if got := strs(r.body["email_domains"]); !reflect.DeepEqual(got, want) {
			t.Errorf("set domains answered %v, want %v", got, want)
		}
		if got := jitDomains(t, admin, acme); !reflect.DeepEqual(got, want) {
			t.Errorf("domains read back %v, want %v", got, want)
		}
		en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "jit-domains")
		if en["action"] != "organization.jit.email_domains.set" || en["target"] != strings.TrimPrefix(acme, "/admin/organizations/") {
			t.Errorf("audit entry: %v", en)
		}

		snapshot := func() string {
			return mustJSONString(t, []any{jitDomains(t, admin, acme), jitDomains(t, admin, globex), admin.all(t, "/admin/audit-log", "id")})
		}
		before := snapshot()
		put := func(path string, body any, opts ...callOpt) reply {
			return admin.do(http.MethodPut, path+"/jit/email-domains", body, opts...)
		}
		for _, bad := range [][]string{{"not a domain"}, {"localhost"}, {"ivy@acme.test"}, {""}, {"acme.test", "a..b"}, {strings.Repeat("a", 64) + ".test"}} {
			r := put(acme, map[string]any{"email_domains": bad}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")
			if i := len(bad) - 1; !strings.Contains(r.str("detail"), fmt.Sprintf("email_domains[%d]", i)) {
				t.Errorf("%q: the problem does not say which entry: %s", bad, r.raw)
			}
		}
		for _, public := range []string{"gmail.com", "Outlook.COM", "proton.me"} {
			r := put(acme, map[string]any{"email_domains": []string{"acme.test", public}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")
			if !strings.Contains(r.str("detail"), "email_domains[1]") || !strings.Contains(r.str("detail"), "public") {
				t.Errorf("%s: %s", public, r.raw)
			}
		}
		put(acme, `{}`, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")
		put(acme, `{"email_domains": null}`, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")
		put(acme, `{"email_domains": "acme.test"}`, invalid()).problem(t, http.StatusBadRequest, "malformed-request", "email_domains")
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("d%d.acme.test", i)
		}
		put(acme, map[string]any{"email_domains": many}, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")
		// Another organization's domain, in whatever spelling.
		r = put(globex, map[string]any{"email_domains": []string{"globex.test", "ACME.test"}}).problem(t, http.StatusConflict, "already-exists", "email_domains")
		if !strings.Contains(r.str("detail"), "acme.test") {
			t.Errorf("the conflict does not name the domain: %s", r.raw)
		}
		put("/admin/organizations/org_nosuchorg", map[string]any{"email_domains": []string{"nosuch.test"}}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg/jit/email-domains", nil).problem(t, http.StatusNotFound, "not-found", "")
		// Another tenant's administrator does not see the organization.
		other.do(http.MethodGet, acme+"/jit/email-domains", nil).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodPut, acme+"/jit/email-domains", map[string]any{"email_domains": []string{}}).problem(t, http.StatusNotFound, "not-found", "")
		if after := snapshot(); after != before {
			t.Errorf("refused requests changed the rules:\nbefore %s\nafter  %s", before, after)
		}

		// Listing its own domains again is no conflict; an empty list
		// clears them, and then another organization may list them.
		put(acme, map[string]any{"email_domains": []string{"acme.test"}}).want(t, http.StatusOK)
		r = put(acme, map[string]any{"email_domains": []string{}}).want(t, http.StatusOK)
		if r.raw != `{"email_domains":[]}`+"\n" {
			t.Errorf("cleared domains: %s", r.raw)
		}
		put(globex, map[string]any{"email_domains": []string{"acme.test"}}).want(t, http.StatusOK)
		if got := jitDomains(t, admin, globex); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("globex's domains: %v", got)
		}
	})
}

// TestJITRoles: the default roles are member until set; only the
// organization's roles may be set, and an empty list is kept as such.
func TestJITRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		orgID := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		acme := "/admin/organizations/" + orgID
		admin.do(http.MethodPost, acme+"/roles", map[string]any{"name": "reviewer", "permissions": []string{"read:members"}}).want(t, http.StatusCreated)

		if got := jitRoles(t, admin, acme); !reflect.DeepEqual(got, []string{"member"}) {
			t.Errorf("roles of a new organization: %v, want [member]", got)
		}
		r := admin.do(http.MethodPut, acme+"/jit/roles", map[string]any{"roles": []string{"reviewer", "member", "reviewer"}}, requestID("jit-roles")).want(t, http.StatusOK)
		if got := strs(r.body["roles"]); !reflect.DeepEqual(got, []string{"member", "reviewer"}) {
			t.Errorf("set roles answered %v", got)
		}
		if got := jitRoles(t, admin, acme); !reflect.DeepEqual(got, []string{"member", "reviewer"}) {
			t.Errorf("roles read back: %v", got)
		}
		en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "jit-roles")
		if en["action"] != "organization.jit.roles.set" || en["target"] != orgID {
			t.Errorf("audit entry: %v", en)
		}

		globex := "/admin/organizations/" + admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		before := mustJSONString(t, []any{jitRoles(t, admin, acme), jitRoles(t, admin, globex), admin.all(t, "/admin/audit-log", "id")})
		admin.do(http.MethodPut, acme+"/jit/roles", map[string]any{"roles": []string{"member", "nosuchrole"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPut, acme+"/jit/roles", `{}`, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPut, acme+"/jit/roles", `{"roles": null}`, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPut, "/admin/organizations/org_nosuchorg/jit/roles", map[string]any{"roles": []string{"member"}}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg/jit/roles", nil).problem(t, http.StatusNotFound, "not-found", "")
		// Another organization's custom role is not this one's.
		admin.do(http.MethodPut, globex+"/jit/roles", map[string]any{"roles": []string{"reviewer"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		if after := mustJSONString(t, []any{jitRoles(t, admin, acme), jitRoles(t, admin, globex), admin.all(t, "/admin/audit-log", "id")}); after != before {
			t.Errorf("refused requests changed the rules:\nbefore %s\nafter  %s", before, after)
		}

		// An empty list is kept: no roles, not the default.
		r = admin.do(http.MethodPut, acme+"/jit/roles", map[string]any{"roles": []string{}}).want(t, http.StatusOK)
		if r.raw != `{"roles":[]}`+"\n" {
			t.Errorf("no roles: %s", r.raw)
		}
		if r := admin.do(http.MethodGet, acme+"/jit/roles", nil).want(t, http.StatusOK); r.raw != `{"roles":[]}`+"\n" {
			t.Errorf("no roles read back as %s", r.raw)
		}
	})
}

// TestSelfServiceJIT: owners and admins read and set the rule of their
// organization (admins grant no more than they hold); members only read.
func TestSelfServiceJIT(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)

		owner := tm.owner.orgAPI(t, tm.org)
		r := owner.do(http.MethodPut, tm.self("/jit/email-domains"), map[string]any{"email_domains": []string{"Acme.test"}}, requestID("self-jit-domains")).want(t, http.StatusOK)
		if got := strs(r.body["email_domains"]); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("self-service set domains: %s", r.raw)
		}
		if got := jitDomains(t, owner, tm.self("")); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("self-service domains: %v", got)
		}
		if got := jitDomains(t, tm.admin, tm.path("")); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("domains through the management API: %v", got)
		}
		r = owner.do(http.MethodPut, tm.self("/jit/roles"), map[string]any{"roles": []string{"admin"}}, requestID("self-jit-roles")).want(t, http.StatusOK)
		if got := strs(r.body["roles"]); !reflect.DeepEqual(got, []string{"admin"}) {
			t.Errorf("self-service set roles: %s", r.raw)
		}
		audit := tm.admin.all(t, "/admin/audit-log", "id")
		for rid, action := range map[string]string{"self-jit-domains": "organization.jit.email_domains.set", "self-jit-roles": "organization.jit.roles.set"} {
			if en := find(t, audit, "request_id", rid); en["actor"] != tm.owner.id || en["action"] != action {
				t.Errorf("audit entry of %s: %v", rid, en)
			}
		}

		adm := tm.adm.orgAPI(t, tm.org)
		adm.do(http.MethodPut, tm.self("/jit/roles"), map[string]any{"roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		adm.do(http.MethodPut, tm.self("/jit/roles"), map[string]any{"roles": []string{"member", "admin"}}).want(t, http.StatusOK)
		adm.do(http.MethodPut, tm.self("/jit/email-domains"), map[string]any{"email_domains": []string{"gmail.com"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email_domains")

		member := tm.member.orgAPI(t, tm.org)
		if got := jitDomains(t, member, tm.self("")); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("a member reads the domains %v", got)
		}
		if got := jitRoles(t, member, tm.self("")); !reflect.DeepEqual(got, []string{"admin", "member"}) {
			t.Errorf("a member reads the roles %v", got)
		}
		member.do(http.MethodPut, tm.self("/jit/email-domains"), map[string]any{"email_domains": []string{}}).problem(t, http.StatusForbidden, "insufficient-permission", "")
		member.do(http.MethodPut, tm.self("/jit/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusForbidden, "insufficient-permission", "")
		if got := jitDomains(t, tm.admin, tm.path("")); !reflect.DeepEqual(got, []string{"acme.test"}) {
			t.Errorf("domains after the member's attempt: %v", got)
		}
		if got := jitRoles(t, tm.admin, tm.path("")); !reflect.DeepEqual(got, []string{"admin", "member"}) {
			t.Errorf("roles after the member's attempt: %v", got)
		}
	})
}
