package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage"
)

// orgRoleNames are the names of the roles orgID's members may hold.
func orgRoleNames(t *testing.T, e *env, orgID string) []string {
	t.Helper()
	roles, _, err := e.srv.Manage.ListOrganizationRoles(context.Background(), "default", orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range roles {
		out = append(out, r.Name)
	}
	return out
}

// TestPortalRoles: the template roles read-only with their permissions,
// Create role for a custom role, and its refusals at their fields — an
// unknown permission, a permission the user does not hold, a taken name
// — which create nothing.
func TestPortalRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		admin := e.portalSignUp("default", "admin@acme.test", "Adam Admin")
		admin.join(orgID, "admin")
		member := e.portalSignUp("default", "member@acme.test", "Mel Member")
		member.join(orgID, "member")

		_, page := member.get("/portal/o/acme/roles")
		for _, want := range []string{`<tr id="role-billing_manager">`, "Manages the plan and sees usage and statements", ">write:billing<", "has no roles of its own yet"} {
			if !strings.Contains(page, want) {
				t.Errorf("the Roles tab lacks %q", want)
			}
		}
		if strings.Contains(page, "Create role") {
			t.Error("a member (no write:roles) is offered Create role")
		}
		if got := member.postStatus("/portal/o/acme/roles", url.Values{"name": {"sneaky"}}); got != http.StatusForbidden {
			t.Errorf("member creates a role: %d; want 403", got)
		}

		// The owner's form offers the tenant's permissions as checkboxes.
		posted, landed, body := owner.submit("/portal/o/acme/roles", "Create role", url.Values{
			"name": {"support_agent"}, "description": {"Answers tickets"}, "permissions": {"read:members", "read:roles"},
		})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/roles" || !strings.Contains(body, "Role created.") {
			t.Fatalf("create role: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if !strings.Contains(body, `<tr id="role-support_agent">`) || !strings.Contains(body, "Answers tickets") {
			t.Errorf("the new role is not listed:\n%s", body)
		}
		roles, _, err := e.srv.Manage.ListOrganizationRoles(context.Background(), "default", orgID, storage.Page{Size: storage.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(roles, func(r storage.Role) bool { return r.Name == "support_agent" })
		if i < 0 || roles[i].OrganizationID != orgID || roles[i].Description != "Answers tickets" ||
			strings.Join(roles[i].Permissions, ",") != "read:members,read:roles" {
			t.Fatalf("roles after create: %+v", roles)
		}
		want := orgRoleNames(t, e, orgID)

		refusals := []struct {
			who          *portalUser
			name         string
			perms        []string
			field, error string
		}{
			{owner, "ghost", []string{"read:members", "nope:thing"}, "permissions", `There is no permission "nope:thing".`},
			// admin holds no billing permission, so cannot put one in a role.
			{admin, "billing_helper", []string{"read:billing"}, "permissions", `You cannot grant "read:billing": you do not hold it.`},
			{owner, "owner", []string{"read:members"}, "name", "There is a role with this name already."},
			{owner, "Bad Name", nil, "name", "Name must be 1 to 64 lowercase letters"},
		}
		for _, r := range refusals {
			_, form := r.who.get("/portal/o/acme/roles")
			f := e2etest.FormWith(t, form, "Create role")
			f.Values.Set("name", r.name)
			f.Values["permissions"] = r.perms
			posted, landed, body := r.who.post(mustURL(t, r.who.url("/portal/o/acme/roles")), f.Action, f.Values)
			if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/roles" {
				t.Errorf("%s creating %s: %d, landed on %s; want 303 back to the form", r.who.email, r.name, posted.StatusCode, landed.Request.URL)
				continue
			}
			msg := e2etest.ElementText(t, body, "role-"+r.field+"-error")
			if !strings.Contains(msg, r.error) {
				t.Errorf("%s creating %s: error at %s %q; want %q", r.who.email, r.name, r.field, msg, r.error)
			}
			if !strings.Contains(body, `value="`+r.name+`"`) {
				t.Errorf("%s creating %s: the typed name is not kept", r.who.email, r.name)
			}
			for _, p := range r.perms {
				if !strings.Contains(body, `value="`+p+`" checked`) && p != "nope:thing" {
					t.Errorf("%s creating %s: %s is not checked again", r.who.email, r.name, p)
				}
			}
		}
		if got := orgRoleNames(t, e, orgID); !slices.Equal(got, want) {
			t.Errorf("roles after the refusals: %v; want %v", got, want)
		}
		// The admin sees which permissions they cannot grant.
		if _, page := admin.get("/portal/o/acme/roles"); !strings.Contains(page, "you do not hold it, so you cannot grant it") {
			t.Error("the admin's form does not mark the permissions they do not hold")
		}
	})
}
