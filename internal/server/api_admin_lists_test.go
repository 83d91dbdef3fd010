package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// newTenant creates a tenant through the management API of tenant default
// and returns a management client of it.
func newTenant(t testing.TB, e *env, admin *api, slug string) *api {
	t.Helper()
	r := admin.do(http.MethodPost, "/admin/tenants", map[string]any{"slug": slug, "name": slug}).want(t, http.StatusCreated)
	ac := obj(t, r.body["admin_client"])
	status, tok := e.clientToken(t, slug, ac["client_id"].(string), ac["client_secret"].(string), e.issuer(slug)+"/api")
	if status != http.StatusOK {
		t.Fatalf("management token of tenant %s: %d %v", slug, status, tok)
	}
	return e.api(t, slug, tok["access_token"].(string))
}

// TestAdminPagination: every list pages with page_size and page_token —
// each item once, next_page_token empty on the last page — and refuses a
// page token it did not hand out or a page size out of range, naming the
// parameter.
func TestAdminPagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)

		// A new tenant, so that its audit log holds only what is done here.
		pages := newTenant(t, e, admin, "pages")
		var orgIDs []string
		for i := range 6 {
			e.advance(time.Second)
			orgIDs = append(orgIDs, pages.createOrganization(t, map[string]any{"name": fmt.Sprintf("Org %d", i)})["id"].(string))
		}
		orgs, n := listAll(t, pages, "/admin/organizations", "id", 2)
		if n != 3 || !slices.Equal(ids(orgs, "id"), orgIDs) {
			t.Errorf("organizations: %d pages of %v, want 3 of %v (oldest first)", n, ids(orgs, "id"), orgIDs)
		}
		audit, n := listAll(t, pages, "/admin/audit-log", "id", 2)
		newestFirst := slices.Clone(orgIDs)
		slices.Reverse(newestFirst)
		if n != 3 || !slices.Equal(ids(audit, "target"), newestFirst) {
			t.Errorf("audit log: %d pages of targets %v, want 3 of %v (newest first)", n, ids(audit, "target"), newestFirst)
		}

		// Members, in tenant default: five, added one by one.
		org := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		membersPath := "/admin/organizations/" + org + "/members"
		var userIDs []string
		for i := range 5 {
			e.advance(time.Second)
			u := admin.createUser(t, fmt.Sprintf("user%d@example.test", i), fmt.Sprintf("User %d", i))
			admin.do(http.MethodPost, membersPath, map[string]any{"user_id": u}).want(t, http.StatusCreated)
			userIDs = append(userIDs, u)
		}
		members, n := listAll(t, admin, membersPath, "user_id", 2)
		if n != 3 || !slices.Equal(ids(members, "user_id"), userIDs) {
			t.Errorf("members: %d pages of %v, want 3 of %v (oldest first)", n, ids(members, "user_id"), userIDs)
		}

		// Items made at the same instant page by their IDs, each once.
		ties := newTenant(t, e, admin, "ties")
		for i := range 5 {
			ties.createOrganization(t, map[string]any{"name": fmt.Sprintf("Tie %d", i)})
		}
		tiedUsers := make([]string, 5)
		for i := range tiedUsers {
			tiedUsers[i] = ties.createUser(t, fmt.Sprintf("tie%d@example.test", i), "")
		}
		tiedOrg := ties.createOrganization(t, map[string]any{"name": "Tied"})["id"].(string)
		ties.do(http.MethodPost, "/admin/organizations/"+tiedOrg+"/members", map[string]any{"user_ids": tiedUsers}).want(t, http.StatusCreated)
		for path, key := range map[string]string{
			"/admin/organizations": "id", "/admin/audit-log": "id", "/admin/organizations/" + tiedOrg + "/members": "user_id",
		} {
			whole := ties.all(t, path, key)
			paged, n := listAll(t, ties, path, key, 2)
			if !reflect.DeepEqual(paged, whole) || n != (len(whole)+1)/2 || len(whole) < 5 {
				t.Errorf("%s with ties: %d pages of %v, want %v", path, n, ids(paged, key), ids(whole, key))
			}
		}

		// The lists the service pages itself.
		admin.do(http.MethodPost, "/admin/organization-roles", map[string]any{"name": "accountant", "permissions": []string{}}).want(t, http.StatusCreated)
		wantRoles := []string{"accountant", "admin", "billing_manager", "member", "owner"}
		for _, path := range []string{"/admin/organization-roles", "/admin/organizations/" + org + "/roles"} {
			roles, n := listAll(t, admin, path, "name", 2)
			if n != 3 || !slices.Equal(ids(roles, "name"), wantRoles) {
				t.Errorf("%s: %d pages of %v, want 3 of %v", path, n, ids(roles, "name"), wantRoles)
			}
		}
		perms := admin.all(t, "/admin/organization-permissions", "name")
		if got, n := listAll(t, admin, "/admin/organization-permissions", "name", 2); n != (len(perms)+1)/2 || !reflect.DeepEqual(got, perms) {
			t.Errorf("permissions: %d pages of %v, want %v", n, ids(got, "name"), ids(perms, "name"))
		}
		e.advance(time.Second)
		newTenant(t, e, admin, "more")
		if tenants, n := listAll(t, admin, "/admin/tenants", "slug", 2); n != 2 || !slices.Equal(ids(tenants, "slug"), []string{storage.DefaultTenant, "more", "pages", "ties"}) {
			t.Errorf("tenants: %d pages of %v", n, ids(tenants, "slug"))
		}
		for range 2 {
			e.advance(time.Second)
			other := admin.createOrganization(t, map[string]any{"name": fmt.Sprintf("Other %d", e.clock.Now().Unix())})["id"].(string)
			admin.do(http.MethodPost, "/admin/organizations/"+other+"/members", map[string]any{"user_id": userIDs[0]}).want(t, http.StatusCreated)
		}
		if got, n := listAll(t, admin, "/admin/users/"+userIDs[0]+"/organizations", "id", 2); n != 2 || len(got) != 3 {
			t.Errorf("a user's organizations: %d pages of %v", n, ids(got, "id"))
		}
		if got, n := listAll(t, pages, "/admin/applications", "id", 1); n != 1 || len(got) != 1 {
			t.Errorf("applications of the new tenant: %d pages of %v", n, ids(got, "id"))
		}

		// Refusals, the same on every list.
		firstOrgPage := pages.do(http.MethodGet, "/admin/organizations?page_size=2", nil).want(t, http.StatusOK).str("next_page_token")
		firstAuditPage := pages.do(http.MethodGet, "/admin/audit-log?page_size=2", nil).want(t, http.StatusOK).str("next_page_token")
		lists := []struct {
			c         *api
			path      string
			foreign   string // a page token of another list
			listToken string // a good token of this list, when known
		}{
			{pages, "/admin/organizations", firstAuditPage, firstOrgPage},
			{pages, "/admin/audit-log", firstOrgPage, firstAuditPage},
			{admin, membersPath, firstOrgPage, ""},
			{admin, "/admin/organization-roles", firstOrgPage, ""},
			{admin, "/admin/organizations/" + org + "/roles", firstOrgPage, ""},
			{admin, "/admin/organization-permissions", firstOrgPage, ""},
			{admin, "/admin/applications", firstOrgPage, ""},
			{admin, "/admin/tenants", firstOrgPage, ""},
			{admin, "/admin/users/" + userIDs[0] + "/organizations", firstOrgPage, ""},
		}
		for _, l := range lists {
			t.Run(strings.ReplaceAll(strings.TrimPrefix(l.path, "/admin/"), "/", "_"), func(t *testing.T) {
				get := func(q string, opts ...callOpt) reply { return l.c.do(http.MethodGet, l.path+"?"+q, nil, opts...) }
				for _, bad := range []string{"garbage", "bm9wZTpub3BlOm5vcGU", l.foreign} {
					get("page_token="+url.QueryEscape(bad)).problem(t, http.StatusBadRequest, "invalid-parameter", "page_token")
				}
				get("page_token="+strings.Repeat("a", 600), invalid()).problem(t, http.StatusBadRequest, "invalid-parameter", "page_token")
				for _, bad := range []string{"0", "-1", "201", "two", "", "1.5"} {
					get("page_size="+bad, invalid()).problem(t, http.StatusBadRequest, "invalid-parameter", "page_size")
				}
				get("page_size=200").want(t, http.StatusOK)
				get("page_size=1").want(t, http.StatusOK)
				if l.listToken != "" {
					get("page_size=2&page_token="+url.QueryEscape(l.listToken)).want(t, http.StatusOK)
				}
			})
		}
	})
}

// TestAdminAudit: every change through the management API is in the audit
// log with the application that made it, what it did to what, the
// caller's X-Request-Id and when, newest first; reads write nothing.
func TestAdminAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, adminID := e.admin(t, storage.DefaultTenant)

		type step struct {
			requestID, action, target string
			at                        time.Time
			details                   map[string]any // a subset of the entry's
		}
		var steps []step
		change := func(action, method, path string, body any, status int) reply {
			t.Helper()
			e.advance(time.Second)
			id := fmt.Sprintf("audit-%02d-%s", len(steps), action)
			r := admin.do(method, path, body, requestID(id)).want(t, status)
			steps = append(steps, step{requestID: id, action: action, at: e.clock.Now()})
			return r
		}
		target := func(s string, details map[string]any) {
			steps[len(steps)-1].target = s
			steps[len(steps)-1].details = details
		}

		change("tenant.create", "POST", "/admin/tenants", map[string]any{"slug": "audited", "name": "Audited"}, http.StatusCreated)
		target("audited", nil)
		org := change("organization.create", "POST", "/admin/organizations", map[string]any{"name": "Acme"}, http.StatusCreated).str("id")
		target(org, map[string]any{"slug": "acme"})
		change("organization.update", "PATCH", "/admin/organizations/"+org, map[string]any{"description": "Anvils"}, http.StatusOK)
		target(org, map[string]any{"fields": []any{"description"}})
		change("organization.update", "PUT", "/admin/organizations/"+org, map[string]any{"name": "Acme Corp", "mfa_required": true}, http.StatusOK)
		target(org, map[string]any{"fields": []any{"name", "mfa_required"}})
		change("permission.create", "POST", "/admin/organization-permissions", map[string]any{"name": "read:reports"}, http.StatusCreated)
		target("read:reports", nil)
		role := change("role.create", "POST", "/admin/organization-roles", map[string]any{"name": "reporter", "permissions": []string{"read:reports"}}, http.StatusCreated).str("id")
		target(role, map[string]any{"name": "reporter"})
		custom := change("organization.role.create", "POST", "/admin/organizations/"+org+"/roles", map[string]any{"name": "clerk", "permissions": []string{}}, http.StatusCreated).str("id")
		target(custom, map[string]any{"name": "clerk", "organization_id": org})
		ada := change("user.create", "POST", "/admin/users", map[string]any{"email": "ada@example.test", "password": "a long enough password"}, http.StatusCreated).str("id")
		target(ada, map[string]any{"fields": []any{"email", "password"}})
		bob := change("user.create", "POST", "/admin/users", map[string]any{"email": "bob@example.test"}, http.StatusCreated).str("id")
		target(bob, nil)
		change("user.update", "PATCH", "/admin/users/"+bob, map[string]any{"name": "Bob"}, http.StatusOK)
		target(bob, map[string]any{"fields": []any{"name"}})
		change("organization.members.add", "POST", "/admin/organizations/"+org+"/members", map[string]any{"user_ids": []string{ada, bob}, "roles": []string{"admin"}}, http.StatusCreated)
		target(org, map[string]any{"roles": []any{"admin"}})
		change("organization.member.roles.set", "PUT", "/admin/organizations/"+org+"/members/"+ada+"/roles", map[string]any{"roles": []string{"owner"}}, http.StatusOK)
		target(org, map[string]any{"user_id": ada, "roles": []any{"owner"}})
		change("organization.member.remove", "DELETE", "/admin/organizations/"+org+"/members/"+bob, nil, http.StatusNoContent)
		target(org, map[string]any{"user_id": bob})
		app := change("application.create", "POST", "/admin/applications", map[string]any{"name": "Robot", "type": "m2m"}, http.StatusCreated)
		target(app.str("client_id"), map[string]any{"type": "m2m"})
		change("application.delete", "DELETE", "/admin/applications/"+app.str("client_id"), nil, http.StatusNoContent)
		target(app.str("client_id"), nil)
		change("user.delete", "DELETE", "/admin/users/"+bob, nil, http.StatusNoContent)
		target(bob, nil)
		change("organization.delete", "DELETE", "/admin/organizations/"+org, nil, http.StatusNoContent)
		target(org, map[string]any{"slug": "acme"})

		entries := admin.all(t, "/admin/audit-log", "id")
		if len(entries) != len(steps) {
			t.Errorf("%d audit entries for %d changes: %v", len(entries), len(steps), ids(entries, "action"))
		}
		var order []int
		for i, s := range steps {
			var found map[string]any
			for j, en := range entries {
				if en["request_id"] == s.requestID {
					if found != nil {
						t.Errorf("two entries of request %s", s.requestID)
					}
					found = en
					order = append(order, j)
				}
			}
			if found == nil {
				t.Errorf("change %d (%s) is not in the audit log", i, s.action)
				continue
			}
			wantKeys(t, "audit entry", found, "id", "actor", "action", "target", "request_id", "details", "created_at")
			if found["actor"] != adminID || found["action"] != s.action || found["target"] != s.target {
				t.Errorf("audit entry of %s: %v, want actor %s action %s target %s", s.requestID, found, adminID, s.action, s.target)
			}
			if at := wantTime(t, "created_at", found["created_at"]); !at.Equal(s.at) {
				t.Errorf("audit entry of %s made at %v, want %v", s.requestID, at, s.at)
			}
			details := obj(t, found["details"])
			for k, v := range s.details {
				if !reflect.DeepEqual(details[k], v) {
					t.Errorf("audit entry of %s: details.%s = %#v, want %#v", s.requestID, k, details[k], v)
				}
			}
			if strings.Contains(mustJSONString(t, found), "a long enough password") || strings.Contains(mustJSONString(t, found), "ada@example.test") {
				t.Errorf("audit entry of %s holds a password or an email: %v", s.requestID, found)
			}
		}
		// Newest first: the first change is the last entry.
		oldestFirst := slices.Clone(order)
		slices.Reverse(oldestFirst)
		if len(order) != len(steps) || !slices.IsSorted(oldestFirst) {
			t.Errorf("the changes are entries %v of the audit log, want newest first", order)
		}
		// The tenant.create entry is tenant default's; the new tenant's log is empty.
		audited := newTenant(t, e, admin, "audited2")
		if got := audited.all(t, "/admin/audit-log", "id"); len(got) != 0 {
			t.Errorf("a new tenant's audit log: %v", got)
		}

		// Reads write nothing.
		before := len(admin.all(t, "/admin/audit-log", "id"))
		org2 := admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		for _, path := range []string{
			"/admin/organizations", "/admin/organizations/" + org2, "/admin/organizations/" + org2 + "/roles",
			"/admin/organizations/" + org2 + "/members", "/admin/organization-permissions", "/admin/organization-roles",
			"/admin/users/" + ada, "/admin/users/" + ada + "/organizations", "/admin/applications", "/admin/applications/" + adminID,
			"/admin/tenants", "/admin/audit-log",
		} {
			admin.do(http.MethodGet, path, nil).want(t, http.StatusOK)
		}
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg", nil).problem(t, http.StatusNotFound, "not-found", "")
		if after := len(admin.all(t, "/admin/audit-log", "id")); after != before+1 {
			t.Errorf("the audit log grew from %d to %d entries with one change and reads", before, after)
		}
	})
}

func mustJSONString(t testing.TB, v any) string { return string(mustJSON(t, v)) }
