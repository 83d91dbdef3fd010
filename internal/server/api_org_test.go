package server_test

import (
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/orgid/orgid/storage"
)

// The organization self-service API (DESIGN §4): an organization's owner
// and admins manage it with an organization token; members read.

// team is organization Acme, made through the management API, with an
// owner, an admin and a member who signed up, and someone who is not in it.
type team struct {
	e                            *env
	admin                        *api
	org                          string
	owner, adm, member, outsider *person
}

func newTeam(t testing.TB, e *env) *team {
	t.Helper()
	admin, _ := e.admin(t, storage.DefaultTenant)
	tm := &team{e: e, admin: admin, org: admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)}
	tm.owner = e.signUp(t, "olive@example.test", "Olive Owner")
	tm.adm = e.signUp(t, "adam@example.test", "Adam Admin")
	tm.member = e.signUp(t, "mia@example.test", "Mia Member")
	tm.outsider = e.signUp(t, "otto@example.test", "Otto Outsider")
	for p, roles := range map[*person][]string{tm.owner: {"owner"}, tm.adm: {"admin"}, tm.member: nil} {
		body := map[string]any{"user_id": p.id}
		if roles != nil {
			body["roles"] = roles
		}
		admin.do(http.MethodPost, tm.path("/members"), body).want(t, http.StatusCreated)
	}
	return tm
}

// path is the management API path of the team's organization.
func (tm *team) path(rest string) string { return "/admin/organizations/" + tm.org + rest }

// self is the self-service path of the team's organization.
func (tm *team) self(rest string) string { return "/organizations/" + tm.org + rest }

func (tm *team) roles(t testing.TB, p *person) []any {
	t.Helper()
	m := find(t, tm.admin.all(t, tm.path("/members"), "user_id"), "user_id", p.id)
	return m["roles"].([]any)
}

// TestSelfServiceManagers: an owner and an admin list, add, change the
// roles of and remove members, list and create custom roles, and read and
// change the settings; their changes are audited as theirs.
func TestSelfServiceManagers(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		for _, who := range []struct {
			name string
			p    *person
		}{{"owner", tm.owner}, {"admin", tm.adm}} {
			t.Run(who.name, func(t *testing.T) {
				c := who.p.orgAPI(t, tm.org)
				rid := func(what string) callOpt { return requestID("self-" + who.name + "-" + what) }

				// Settings.
				got := c.do(http.MethodGet, tm.self(""), nil).want(t, http.StatusOK).body
				wantKeys(t, "organization", got, organizationKeys...)
				if want := tm.admin.do(http.MethodGet, tm.path(""), nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, want) {
					t.Errorf("self-service GET %v\nmanagement GET %v", got, want)
				}
				change := map[string]any{"description": "Set by the " + who.name}
				after := c.do(http.MethodPatch, tm.self(""), change, rid("patch")).want(t, http.StatusOK).body
				wantChanged(t, got, after, change)
				before := after
				change = map[string]any{"logo_url": "https://acme.example/" + who.name + ".png", "custom_data": map[string]any{"by": who.name}}
				after = c.do(http.MethodPut, tm.self(""), change, rid("put")).want(t, http.StatusOK).body
				wantChanged(t, before, after, change)

				// Members.
				list := c.do(http.MethodGet, tm.self("/members"), nil).want(t, http.StatusOK)
				if got := sorted(ids(list.items(), "user_id")); !slices.Equal(got, sorted([]string{tm.owner.id, tm.adm.id, tm.member.id})) {
					t.Errorf("members: %v", got)
				}
				for _, m := range list.items() {
					wantKeys(t, "member", m, memberKeys...)
				}
				if m := find(t, list.items(), "user_id", tm.member.id); m["email"] != "mia@example.test" || m["name"] != "Mia Member" || !reflect.DeepEqual(m["roles"], []any{"member"}) {
					t.Errorf("member as listed: %v", m)
				}
				if paged, _ := listAll(t, c, tm.self("/members"), "user_id", 2); !reflect.DeepEqual(paged, list.items()) {
					t.Errorf("members by pages of 2: %v, want %v", paged, list.items())
				}
				r := c.do(http.MethodPost, tm.self("/members"), map[string]any{"user_id": tm.outsider.id}, rid("add")).want(t, http.StatusCreated)
				if len(r.items()) != 1 || !reflect.DeepEqual(r.items()[0]["roles"], []any{"member"}) {
					t.Errorf("added member: %s", r.raw)
				}
				r = c.do(http.MethodPut, tm.self("/members/"+tm.outsider.id+"/roles"), map[string]any{"roles": []string{"member", "admin"}}, rid("roles")).want(t, http.StatusOK)
				if !reflect.DeepEqual(r.body["roles"], []any{"admin", "member"}) {
					t.Errorf("set roles: %s", r.raw)
				}
				if got := tm.roles(t, tm.outsider); !reflect.DeepEqual(got, []any{"admin", "member"}) {
					t.Errorf("roles after the change: %v", got)
				}
				c.do(http.MethodDelete, tm.self("/members/"+tm.outsider.id), nil, rid("remove")).want(t, http.StatusNoContent)
				r = c.do(http.MethodPost, tm.self("/members"), map[string]any{"user_ids": []string{tm.outsider.id}, "roles": []string{"admin", "member"}}).want(t, http.StatusCreated)
				if len(r.items()) != 1 || !reflect.DeepEqual(r.items()[0]["roles"], []any{"admin", "member"}) {
					t.Errorf("added members: %s", r.raw)
				}
				c.do(http.MethodDelete, tm.self("/members/"+tm.outsider.id), nil).want(t, http.StatusNoContent)
				c.do(http.MethodDelete, tm.self("/members/"+tm.outsider.id), nil).problem(t, http.StatusNotFound, "not-found", "")

				// Custom roles.
				name := who.name + "-reviewer"
				r = c.do(http.MethodPost, tm.self("/roles"), map[string]any{"name": name, "description": "Reviews", "permissions": []string{"read:members", "read:roles"}}, rid("role")).want(t, http.StatusCreated)
				wantKeys(t, "custom role", r.body, "id", "name", "description", "permissions", "organization_id")
				if r.str("organization_id") != tm.org || !reflect.DeepEqual(r.body["permissions"], []any{"read:members", "read:roles"}) {
					t.Errorf("created role: %s", r.raw)
				}
				role := r.body
				if got := find(t, c.all(t, tm.self("/roles"), "name"), "name", name); !reflect.DeepEqual(got, role) {
					t.Errorf("listed role %v, created %v", got, role)
				}
				selfRoles := ids(c.all(t, tm.self("/roles"), "name"), "name")
				if adminRoles := ids(tm.admin.all(t, tm.path("/roles"), "name"), "name"); !slices.Equal(selfRoles, adminRoles) || !slices.Contains(selfRoles, "owner") {
					t.Errorf("self-service roles %v, management roles %v", selfRoles, adminRoles)
				}
				if slices.Contains(ids(tm.admin.all(t, "/admin/organization-roles", "name"), "name"), name) {
					t.Errorf("a custom role is a template role")
				}
				c.do(http.MethodPost, tm.self("/roles"), map[string]any{"name": name, "permissions": []string{}}).problem(t, http.StatusConflict, "already-exists", "name")
				c.do(http.MethodPost, tm.self("/roles"), map[string]any{"name": "x-" + name, "permissions": []string{"read:nothing"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "permissions")
				c.do(http.MethodPost, tm.self("/roles"), `{"name":`, invalid()).problem(t, http.StatusBadRequest, "malformed-request", "")
				// The new role can be given.
				c.do(http.MethodPost, tm.self("/members"), map[string]any{"user_id": tm.outsider.id, "roles": []string{name}}).want(t, http.StatusCreated)
				c.do(http.MethodDelete, tm.self("/members/"+tm.outsider.id), nil).want(t, http.StatusNoContent)

				// Audited as the person who made the change.
				audit := tm.admin.all(t, "/admin/audit-log", "id")
				for what, action := range map[string]string{
					"patch": "organization.update", "put": "organization.update", "add": "organization.members.add",
					"roles": "organization.member.roles.set", "remove": "organization.member.remove", "role": "organization.role.create",
				} {
					en := find(t, audit, "request_id", "self-"+who.name+"-"+what)
					if en["actor"] != who.p.id || en["action"] != action {
						t.Errorf("audit entry of the %s's %s: %v", who.name, what, en)
					}
				}
			})
		}

		t.Run("an admin grants and changes no more than they hold", func(t *testing.T) {
			c := tm.adm.orgAPI(t, tm.org)
			snap := teamSnapshot(tm)
			before := snap(t)
			c.do(http.MethodPost, tm.self("/members"), map[string]any{"user_id": tm.outsider.id, "roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
			c.do(http.MethodPut, tm.self("/members/"+tm.member.id+"/roles"), map[string]any{"roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
			c.do(http.MethodPut, tm.self("/members/"+tm.owner.id+"/roles"), map[string]any{"roles": []string{"member"}}).problem(t, http.StatusForbidden, "forbidden", "")
			c.do(http.MethodDelete, tm.self("/members/"+tm.owner.id), nil).problem(t, http.StatusForbidden, "forbidden", "")
			c.do(http.MethodPost, tm.self("/roles"), map[string]any{"name": "deleter", "permissions": []string{"delete:organization"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "permissions")
			wantSameSnapshot(t, before, snap(t))
		})
	})
}

// TestSelfServiceMember: a member reads members, roles and settings and
// may change nothing (403 naming the permission, nothing written).
func TestSelfServiceMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		c := tm.member.orgAPI(t, tm.org)
		c.do(http.MethodGet, tm.self(""), nil).want(t, http.StatusOK)
		if got := c.do(http.MethodGet, tm.self("/members"), nil).want(t, http.StatusOK).items(); len(got) != 3 {
			t.Errorf("members: %v", got)
		}
		c.do(http.MethodGet, tm.self("/roles"), nil).want(t, http.StatusOK)
		for list, key := range map[string]string{"/members": "user_id", "/roles": "name"} {
			if paged, _ := listAll(t, c, tm.self(list), key, 1); len(paged) < 3 {
				t.Errorf("%s by pages of 1: %v", list, paged)
			}
			c.do(http.MethodGet, tm.self(list+"?page_token=garbage"), nil).problem(t, http.StatusBadRequest, "invalid-parameter", "page_token")
			c.do(http.MethodGet, tm.self(list+"?page_size=0"), nil, invalid()).problem(t, http.StatusBadRequest, "invalid-parameter", "page_size")
		}

		snap := teamSnapshot(tm)
		before := snap(t)
		for _, w := range []struct {
			method, path string
			body         any
			permission   string
		}{
			{http.MethodPatch, tm.self(""), map[string]any{"name": "Mine"}, "write:organization"},
			{http.MethodPut, tm.self(""), map[string]any{"description": "Mine"}, "write:organization"},
			{http.MethodPost, tm.self("/members"), map[string]any{"user_id": tm.outsider.id}, "write:members"},
			{http.MethodPut, tm.self("/members/" + tm.member.id + "/roles"), map[string]any{"roles": []string{"owner"}}, "write:members"},
			{http.MethodDelete, tm.self("/members/" + tm.adm.id), nil, "write:members"},
			{http.MethodDelete, tm.self("/members/" + tm.member.id), nil, "write:members"},
			{http.MethodPost, tm.self("/roles"), map[string]any{"name": "mine", "permissions": []string{}}, "write:roles"},
		} {
			r := c.do(w.method, w.path, w.body).problem(t, http.StatusForbidden, "insufficient-permission", "")
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="orgid", error="insufficient_scope", scope="`+w.permission+`"`; got != want {
				t.Errorf("%s %s: WWW-Authenticate %q, want %q", w.method, w.path, got, want)
			}
		}
		wantSameSnapshot(t, before, snap(t))

		// A billing manager reads the settings, not the members.
		tm.admin.do(http.MethodPost, tm.path("/members"), map[string]any{"user_id": tm.outsider.id, "roles": []string{"billing_manager"}}).want(t, http.StatusCreated)
		bm := tm.outsider.orgAPI(t, tm.org)
		bm.do(http.MethodGet, tm.self(""), nil).want(t, http.StatusOK)
		bm.do(http.MethodGet, tm.self("/members"), nil).problem(t, http.StatusForbidden, "insufficient-permission", "")
		bm.do(http.MethodPatch, tm.self(""), map[string]any{"name": "Mine"}).problem(t, http.StatusForbidden, "insufficient-permission", "")
	})
}

// TestSelfServiceOtherOrganization: an organization token is good for its
// own organization's path only; another organization's path — one the
// caller owns, one they are not in, one that does not exist — gets one and
// the same 403.
func TestSelfServiceOtherOrganization(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		globex := tm.admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		personal := tm.admin.do(http.MethodGet, "/admin/users/"+tm.owner.id+"/organizations", nil).want(t, http.StatusOK).items()
		var owned string
		for _, o := range personal {
			if o["id"] != tm.org && slices.Contains(strs(o["roles"]), "owner") {
				owned = o["id"].(string)
			}
		}
		if owned == "" {
			t.Fatalf("the owner's personal organization: %v", personal)
		}
		c := tm.owner.orgAPI(t, tm.org)
		c.do(http.MethodGet, tm.self("/members"), nil).want(t, http.StatusOK)

		for _, call := range []struct {
			method, rest string
			body         any
		}{
			{http.MethodGet, "", nil},
			{http.MethodGet, "/members", nil},
			{http.MethodPost, "/members", map[string]any{"user_id": tm.outsider.id}},
			{http.MethodPatch, "", map[string]any{"name": "Taken over"}},
			{http.MethodDelete, "/members/" + tm.owner.id, nil},
		} {
			var answers []string
			for _, org := range []string{owned, globex, "org_nosuchorg"} {
				r := c.do(call.method, "/organizations/"+org+call.rest, call.body, requestID("probe")).problem(t, http.StatusForbidden, "forbidden", "")
				answers = append(answers, r.raw)
			}
			if answers[0] != answers[1] || answers[1] != answers[2] {
				t.Errorf("%s %s on another organization answers differently:\n%s", call.method, call.rest, answers)
			}
			// A management token and a plain access token are no
			// organization tokens either.
			for _, token := range []string{tm.admin.token, tm.owner.access} {
				r := c.with(token).do(call.method, tm.self(call.rest), call.body, requestID("probe")).problem(t, http.StatusForbidden, "forbidden", "")
				if r.raw != answers[0] {
					t.Errorf("%s %s without an organization token: %s, want %s", call.method, call.rest, r.raw, answers[0])
				}
			}
		}
		// Nothing changed in those organizations.
		for _, org := range []string{owned, globex} {
			o := tm.admin.do(http.MethodGet, "/admin/organizations/"+org, nil).want(t, http.StatusOK).body
			members := tm.admin.all(t, "/admin/organizations/"+org+"/members", "user_id")
			if o["name"] == "Taken over" || slices.Contains(ids(members, "user_id"), tm.outsider.id) {
				t.Errorf("organization %s changed: %v, members %v", org, o, ids(members, "user_id"))
			}
		}
		// And no token for the path's organization is needed to probe:
		// without one it is 401.
		c.with("").do(http.MethodGet, "/organizations/"+globex, nil).problem(t, http.StatusUnauthorized, "unauthorized", "")
	})
}

// TestLastOwner: the last owner can be neither removed nor demoted, through
// either API (409 last-owner); once another owner exists, they can.
func TestLastOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		owner := tm.owner.orgAPI(t, tm.org)
		snap := teamSnapshot(tm)
		before := snap(t)

		lastOwner := func(r reply) {
			t.Helper()
			r.problem(t, http.StatusConflict, "last-owner", "")
			if r.body["organization_id"] != tm.org {
				t.Errorf("last-owner problem about %v, want %s", r.body["organization_id"], tm.org)
			}
		}
		// Through the self-service API.
		lastOwner(owner.do(http.MethodDelete, tm.self("/members/"+tm.owner.id), nil))
		lastOwner(owner.do(http.MethodPut, tm.self("/members/"+tm.owner.id+"/roles"), map[string]any{"roles": []string{"admin"}}))
		lastOwner(owner.do(http.MethodPut, tm.self("/members/"+tm.owner.id+"/roles"), map[string]any{"roles": []string{}}))
		// Through the management API.
		lastOwner(tm.admin.do(http.MethodDelete, tm.path("/members/"+tm.owner.id), nil))
		lastOwner(tm.admin.do(http.MethodPut, tm.path("/members/"+tm.owner.id+"/roles"), map[string]any{"roles": []string{"member", "admin"}}))
		tm.admin.do(http.MethodDelete, "/admin/users/"+tm.owner.id, nil).problem(t, http.StatusConflict, "last-owner", "")
		wantSameSnapshot(t, before, snap(t))
		if got := tm.roles(t, tm.owner); !reflect.DeepEqual(got, []any{"owner"}) {
			t.Fatalf("the owner's roles after the refusals: %v", got)
		}

		// A second owner: now the first can step down, through the
		// self-service API...
		owner.do(http.MethodPut, tm.self("/members/"+tm.adm.id+"/roles"), map[string]any{"roles": []string{"owner"}}).want(t, http.StatusOK)
		owner.do(http.MethodPut, tm.self("/members/"+tm.owner.id+"/roles"), map[string]any{"roles": []string{"admin"}}).want(t, http.StatusOK)
		if got := tm.roles(t, tm.owner); !reflect.DeepEqual(got, []any{"admin"}) {
			t.Errorf("the first owner's roles: %v", got)
		}
		// ...and the new last owner is protected in turn.
		lastOwner(tm.admin.do(http.MethodPut, tm.path("/members/"+tm.adm.id+"/roles"), map[string]any{"roles": []string{"admin"}}))
		newOwner := tm.adm.orgAPI(t, tm.org)
		lastOwner(newOwner.do(http.MethodDelete, tm.self("/members/"+tm.adm.id), nil))

		// Through the management API: another owner, then the demotion
		// and the removal go through.
		tm.admin.do(http.MethodPut, tm.path("/members/"+tm.member.id+"/roles"), map[string]any{"roles": []string{"owner"}}).want(t, http.StatusOK)
		tm.admin.do(http.MethodPut, tm.path("/members/"+tm.adm.id+"/roles"), map[string]any{"roles": []string{"member"}}).want(t, http.StatusOK)
		tm.admin.do(http.MethodDelete, tm.path("/members/"+tm.adm.id), nil).want(t, http.StatusNoContent)
		lastOwner(tm.admin.do(http.MethodDelete, tm.path("/members/"+tm.member.id), nil))
		owners := 0
		for _, m := range tm.admin.all(t, tm.path("/members"), "user_id") {
			if slices.Contains(strs(m["roles"]), "owner") {
				owners++
			}
		}
		if owners != 1 {
			t.Errorf("%d owners, want 1", owners)
		}
	})
}

// TestRemovedMember: a removal or a demotion takes effect at once — at the
// next organization-token request and the next self-service call.
func TestRemovedMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)

		// Removed through the management API.
		mia := tm.member.orgAPI(t, tm.org)
		mia.do(http.MethodGet, tm.self("/members"), nil).want(t, http.StatusOK)
		tm.admin.do(http.MethodDelete, tm.path("/members/"+tm.member.id), nil).want(t, http.StatusNoContent)
		status, body := tm.member.orgToken(t, tm.org)
		wantError(t, status, body, http.StatusForbidden, "access_denied")
		removed := mia.do(http.MethodGet, tm.self("/members"), nil, requestID("removed")).problem(t, http.StatusForbidden, "forbidden", "")
		stranger := tm.outsider.orgAPI(t, mustPersonal(t, tm, tm.outsider))
		if r := stranger.do(http.MethodGet, tm.self("/members"), nil, requestID("removed")); r.raw != removed.raw {
			t.Errorf("a removed member is answered %s, a stranger %s", removed.raw, r.raw)
		}

		// Demoted through the self-service API: the admin's token, which
		// still carries write:members, no longer writes.
		adam := tm.adm.orgAPI(t, tm.org)
		adam.do(http.MethodGet, tm.self("/roles"), nil).want(t, http.StatusOK)
		owner := tm.owner.orgAPI(t, tm.org)
		owner.do(http.MethodPut, tm.self("/members/"+tm.adm.id+"/roles"), map[string]any{"roles": []string{"member"}}).want(t, http.StatusOK)
		adam.do(http.MethodPost, tm.self("/members"), map[string]any{"user_id": tm.outsider.id}).problem(t, http.StatusForbidden, "insufficient-permission", "")
		adam.do(http.MethodGet, tm.self("/members"), nil).want(t, http.StatusOK)

		// Removed through the self-service API.
		owner.do(http.MethodDelete, tm.self("/members/"+tm.adm.id), nil).want(t, http.StatusNoContent)
		adam.do(http.MethodGet, tm.self("/members"), nil).problem(t, http.StatusForbidden, "forbidden", "")
		status, body = tm.adm.orgToken(t, tm.org)
		wantError(t, status, body, http.StatusForbidden, "access_denied")
	})
}

// mustPersonal returns the personal organization of p.
func mustPersonal(t testing.TB, tm *team, p *person) string {
	t.Helper()
	for _, o := range tm.admin.do(http.MethodGet, "/admin/users/"+p.id+"/organizations", nil).want(t, http.StatusOK).items() {
		if o["id"] != tm.org {
			return o["id"].(string)
		}
	}
	t.Fatalf("%s has no personal organization", p.email)
	return ""
}

// teamSnapshot reads the team's organization, members and roles and the
// audit log through the management API.
func teamSnapshot(tm *team) func(t *testing.T) map[string]string {
	return func(t *testing.T) map[string]string {
		t.Helper()
		out := map[string]string{"organization": tm.admin.do(http.MethodGet, tm.path(""), nil).want(t, http.StatusOK).raw}
		for path, key := range map[string]string{tm.path("/members"): "user_id", tm.path("/roles"): "name", "/admin/audit-log": "id"} {
			out[path] = mustJSONString(t, tm.admin.all(t, path, key))
		}
		return out
	}
}

func wantSameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for what, was := range before {
		if after[what] != was {
			t.Errorf("refused requests changed %s:\nbefore %s\nafter  %s", what, was, after[what])
		}
	}
}
