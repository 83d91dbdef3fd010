package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage"
)

// refusal is a management API request that must be refused with a
// problem of status and code naming field, and change nothing.
type refusal struct {
	name   string
	method string
	path   string
	body   any
	// invalid marks a request that breaks docs/openapi.yaml on purpose.
	invalid bool
	header  map[string]string
	status  int
	code    string
	field   string
}

// TestAdminRefusals: what exists already is 409, a value that breaks a
// rule is 422 and a body that is not a JSON object of the request 400 —
// each naming the field — and an oversized body 413; none of them writes
// anything (DESIGN §4, §8).
func TestAdminRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		acme := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		globex := admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)
		ada := admin.createUser(t, "ada@example.test", "Ada")
		bob := admin.createUser(t, "bob@example.test", "Bob")
		admin.do(http.MethodPost, "/admin/organizations/"+acme+"/members", map[string]any{"user_id": ada, "roles": []string{"owner"}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organization-permissions", map[string]any{"name": "read:invoices"}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organization-roles", map[string]any{"name": "accountant", "permissions": []string{"read:invoices"}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organizations/"+acme+"/roles", map[string]any{"name": "clerk", "permissions": []string{}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organizations/"+globex+"/roles", map[string]any{"name": "globex-clerk", "permissions": []string{}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/tenants", map[string]any{"slug": "initech", "name": "Initech"}).want(t, http.StatusCreated)

		org := "/admin/organizations/" + acme
		members := org + "/members"
		huge := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
		webApp := func(extra map[string]any) map[string]any {
			m := map[string]any{"name": "Portal", "type": "web", "redirect_uris": []string{"https://portal.example/cb"}}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		cases := []refusal{
			// Organizations.
			{name: "derived slug taken", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "ACME"}, status: 409, code: "already-exists", field: "slug"},
			{name: "slug taken", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "slug": "globex"}, status: 409, code: "already-exists", field: "slug"},
			{name: "bad slug", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "slug": "Not A Slug"}, invalid: true, status: 422, code: "invalid-value", field: "slug"},
			{name: "slug with an outer hyphen", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "slug": "-other"}, invalid: true, status: 422, code: "invalid-value", field: "slug"},
			{name: "no slug from the name", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "!!!"}, status: 422, code: "invalid-value", field: "slug"},
			{name: "no name", method: "POST", path: "/admin/organizations", body: map[string]any{"slug": "other"}, invalid: true, status: 422, code: "invalid-value", field: "name"},
			{name: "blank name", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "   "}, status: 422, code: "invalid-value", field: "name"},
			{name: "script logo", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "logo_url": "javascript:alert(1)"}, status: 422, code: "invalid-value", field: "logo_url"},
			{name: "plain http dark logo", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "logo_dark_url": "http://cdn.example/logo.png"}, status: 422, code: "invalid-value", field: "logo_dark_url"},
			{name: "custom_data not an object", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "custom_data": []int{1}}, invalid: true, status: 422, code: "invalid-value", field: "custom_data"},
			{name: "unknown MFA policy", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "mfa_policy": "always"}, invalid: true, status: 422, code: "invalid-value", field: "mfa_policy"},
			{name: "mfa_required not a boolean", method: "POST", path: "/admin/organizations", body: map[string]any{"name": "Other", "mfa_required": "yes"}, invalid: true, status: 400, code: "malformed-request", field: "mfa_required"},
			{name: "PATCH to a taken slug", method: "PATCH", path: org, body: map[string]any{"slug": "globex"}, status: 409, code: "already-exists", field: "slug"},
			{name: "PUT an empty name", method: "PUT", path: org, body: map[string]any{"name": ""}, invalid: true, status: 422, code: "invalid-value", field: "name"},
			{name: "PATCH a long description", method: "PATCH", path: org, body: map[string]any{"description": strings.Repeat("d", 2001)}, invalid: true, status: 422, code: "invalid-value", field: "description"},
			{name: "PATCH a bad field among good ones", method: "PATCH", path: org, body: map[string]any{"name": "Renamed", "logo_url": "ftp://x.example/l.png"}, status: 422, code: "invalid-value", field: "logo_url"},

			// Users.
			{name: "email taken, other case", method: "POST", path: "/admin/users", body: map[string]any{"email": "ADA@Example.Test"}, status: 409, code: "already-exists", field: "email"},
			{name: "bad email", method: "POST", path: "/admin/users", body: map[string]any{"email": "not an email"}, status: 422, code: "invalid-value", field: "email"},
			{name: "email with a display name", method: "POST", path: "/admin/users", body: map[string]any{"email": "Eve <eve@example.test>"}, status: 422, code: "invalid-value", field: "email"},
			{name: "no email", method: "POST", path: "/admin/users", body: map[string]any{"name": "Nobody"}, invalid: true, status: 422, code: "invalid-value", field: "email"},
			{name: "short password", method: "POST", path: "/admin/users", body: map[string]any{"email": "new@example.test", "password": "short"}, invalid: true, status: 422, code: "invalid-value", field: "password"},
			{name: "email_verified not a boolean", method: "POST", path: "/admin/users", body: map[string]any{"email": "new@example.test", "email_verified": "yes"}, invalid: true, status: 400, code: "malformed-request", field: "email_verified"},
			{name: "PATCH to a taken email", method: "PATCH", path: "/admin/users/" + ada, body: map[string]any{"email": "Bob@example.test"}, status: 409, code: "already-exists", field: "email"},
			{name: "PUT a bad email", method: "PUT", path: "/admin/users/" + ada, body: map[string]any{"email": "@example.test"}, status: 422, code: "invalid-value", field: "email"},

			// Permissions and roles.
			{name: "permission taken", method: "POST", path: "/admin/organization-permissions", body: map[string]any{"name": "read:invoices"}, status: 409, code: "already-exists", field: "name"},
			{name: "built-in permission taken", method: "POST", path: "/admin/organization-permissions", body: map[string]any{"name": "write:members"}, status: 409, code: "already-exists", field: "name"},
			{name: "bad permission name", method: "POST", path: "/admin/organization-permissions", body: map[string]any{"name": "Invoices"}, invalid: true, status: 422, code: "invalid-value", field: "name"},
			{name: "template role taken", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "accountant", "permissions": []string{}}, status: 409, code: "already-exists", field: "name"},
			{name: "built-in role taken", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "owner", "permissions": []string{}}, status: 409, code: "already-exists", field: "name"},
			{name: "template role named as a custom one", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "clerk", "permissions": []string{}}, status: 409, code: "already-exists", field: "name"},
			{name: "template role with an unknown permission", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "auditor", "permissions": []string{"read:invoices", "read:nothing"}}, status: 422, code: "invalid-value", field: "permissions"},
			{name: "template role without permissions", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "auditor"}, invalid: true, status: 422, code: "invalid-value", field: "permissions"},
			{name: "bad role name", method: "POST", path: "/admin/organization-roles", body: map[string]any{"name": "Head Auditor", "permissions": []string{}}, invalid: true, status: 422, code: "invalid-value", field: "name"},
			{name: "custom role named as a template one", method: "POST", path: org + "/roles", body: map[string]any{"name": "admin", "permissions": []string{}}, status: 409, code: "already-exists", field: "name"},
			{name: "custom role taken", method: "POST", path: org + "/roles", body: map[string]any{"name": "clerk", "permissions": []string{}}, status: 409, code: "already-exists", field: "name"},
			{name: "custom role with an unknown permission", method: "POST", path: org + "/roles", body: map[string]any{"name": "auditor", "permissions": []string{"read:nothing"}}, status: 422, code: "invalid-value", field: "permissions"},
			{name: "custom role of no organization", method: "POST", path: "/admin/organizations/org_nosuchorg/roles", body: map[string]any{"name": "auditor", "permissions": []string{}}, status: 404, code: "not-found"},

			// Members.
			{name: "unknown role", method: "POST", path: members, body: map[string]any{"user_id": bob, "roles": []string{"member", "nope"}}, status: 422, code: "invalid-value", field: "roles"},
			{name: "another organization's custom role", method: "POST", path: members, body: map[string]any{"user_id": bob, "roles": []string{"globex-clerk"}}, status: 422, code: "invalid-value", field: "roles"},
			{name: "unknown user", method: "POST", path: members, body: map[string]any{"user_id": "usr_nosuchuser"}, status: 422, code: "invalid-value", field: "user_id"},
			{name: "unknown user among many", method: "POST", path: members, body: map[string]any{"user_ids": []string{bob, "usr_nosuchuser"}}, status: 422, code: "invalid-value", field: "user_ids"},
			{name: "a member already", method: "POST", path: members, body: map[string]any{"user_id": ada}, status: 409, code: "already-exists", field: "user_id"},
			{name: "a member already among many", method: "POST", path: members, body: map[string]any{"user_ids": []string{bob, ada}}, status: 409, code: "already-exists", field: "user_ids"},
			{name: "no user", method: "POST", path: members, body: map[string]any{"roles": []string{"member"}}, status: 422, code: "invalid-value", field: "user_id"},
			{name: "empty user list", method: "POST", path: members, body: map[string]any{"user_ids": []string{}}, status: 422, code: "invalid-value", field: "user_ids"},
			{name: "user_id and user_ids", method: "POST", path: members, body: map[string]any{"user_id": bob, "user_ids": []string{bob}}, status: 422, code: "invalid-value", field: "user_id"},
			{name: "set an unknown role", method: "PUT", path: members + "/" + ada + "/roles", body: map[string]any{"roles": []string{"owner", "nope"}}, status: 422, code: "invalid-value", field: "roles"},
			{name: "set no roles field", method: "PUT", path: members + "/" + ada + "/roles", body: map[string]any{}, invalid: true, status: 422, code: "invalid-value", field: "roles"},
			{name: "roles not an array", method: "PUT", path: members + "/" + ada + "/roles", body: map[string]any{"roles": "owner"}, invalid: true, status: 400, code: "malformed-request", field: "roles"},
			{name: "set the roles of a non-member", method: "PUT", path: members + "/" + bob + "/roles", body: map[string]any{"roles": []string{"member"}}, status: 404, code: "not-found"},
			{name: "remove a non-member", method: "DELETE", path: members + "/" + bob, status: 404, code: "not-found"},

			// Applications.
			{name: "unknown application type", method: "POST", path: "/admin/applications", body: map[string]any{"name": "Robot", "type": "daemon"}, invalid: true, status: 422, code: "invalid-value", field: "type"},
			{name: "web application without redirect URIs", method: "POST", path: "/admin/applications", body: map[string]any{"name": "Portal", "type": "web"}, status: 422, code: "invalid-value", field: "redirect_uris"},
			{name: "redirect URI with a fragment", method: "POST", path: "/admin/applications", body: webApp(map[string]any{"redirect_uris": []string{"https://portal.example/cb#x"}}), status: 422, code: "invalid-value", field: "redirect_uris"},
			{name: "m2m application with redirect URIs", method: "POST", path: "/admin/applications", body: map[string]any{"name": "Robot", "type": "m2m", "redirect_uris": []string{"https://robot.example/cb"}}, status: 422, code: "invalid-value", field: "redirect_uris"},
			{name: "tenant role on a web application", method: "POST", path: "/admin/applications", body: webApp(map[string]any{"tenant_roles": []string{"admin"}}), status: 422, code: "invalid-value", field: "tenant_roles"},
			{name: "application of no organization", method: "POST", path: "/admin/applications", body: map[string]any{"name": "Robot", "type": "m2m", "organization_id": "org_nosuchorg"}, status: 422, code: "invalid-value", field: "organization_id"},
			{name: "unknown ID token algorithm", method: "POST", path: "/admin/applications", body: webApp(map[string]any{"id_token_signed_response_alg": "HS256"}), invalid: true, status: 422, code: "invalid-value", field: "id_token_signed_response_alg"},

			// Tenants.
			{name: "tenant slug taken", method: "POST", path: "/admin/tenants", body: map[string]any{"slug": "initech", "name": "Initech again"}, status: 409, code: "already-exists", field: "slug"},
			{name: "tenant default", method: "POST", path: "/admin/tenants", body: map[string]any{"slug": storage.DefaultTenant, "name": "Default"}, status: 422, code: "invalid-value", field: "slug"},
			{name: "bad tenant slug", method: "POST", path: "/admin/tenants", body: map[string]any{"slug": "Big Co", "name": "Big Co"}, invalid: true, status: 422, code: "invalid-value", field: "slug"},
			{name: "tenant without name", method: "POST", path: "/admin/tenants", body: map[string]any{"slug": "bigco"}, invalid: true, status: 422, code: "invalid-value", field: "name"},

			// Bodies that are not a JSON object of the request.
			{name: "truncated JSON", method: "POST", path: "/admin/organizations", body: `{"name":`, invalid: true, status: 400, code: "malformed-request"},
			{name: "JSON array", method: "POST", path: "/admin/organizations", body: `[{"name":"Other"}]`, invalid: true, status: 400, code: "malformed-request"},
			{name: "two JSON objects", method: "POST", path: "/admin/organizations", body: `{"name":"Other"} {"name":"More"}`, invalid: true, status: 400, code: "malformed-request"},
			{name: "empty body", method: "POST", path: "/admin/organizations", body: ``, invalid: true, status: 400, code: "malformed-request"},
			{name: "not JSON", method: "POST", path: "/admin/users", body: `email=x@example.test`, invalid: true, status: 400, code: "malformed-request"},
			{name: "misspelt field", method: "POST", path: "/admin/organizations", body: `{"name":"Other","nmae":"x"}`, invalid: true, status: 400, code: "malformed-request", field: "nmae"},
			{name: "name not a string", method: "POST", path: "/admin/organizations", body: `{"name":5}`, invalid: true, status: 400, code: "malformed-request", field: "name"},
			{name: "malformed PATCH", method: "PATCH", path: org, body: `{"name":"Renamed",}`, invalid: true, status: 400, code: "malformed-request"},
			{name: "malformed members", method: "POST", path: members, body: `{"user_id":`, invalid: true, status: 400, code: "malformed-request"},
			{name: "form body", method: "POST", path: "/admin/organizations", body: `name=Other`, invalid: true, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415, code: "unsupported-media-type"},

			// Oversized bodies.
			{name: "huge organization", method: "POST", path: "/admin/organizations", body: huge, invalid: true, status: 413, code: "body-too-large"},
			{name: "huge PATCH", method: "PATCH", path: org, body: huge, invalid: true, status: 413, code: "body-too-large"},
			{name: "huge user", method: "POST", path: "/admin/users", body: `{"email":"big@example.test","name":"` + strings.Repeat("n", 1<<20) + `"}`, invalid: true, status: 413, code: "body-too-large"},
			{name: "huge member list", method: "POST", path: members, body: `{"user_ids":["` + strings.Repeat("u", 1<<20) + `"]}`, invalid: true, status: 413, code: "body-too-large"},
		}
		snapshot := adminSnapshot(admin, acme, globex, ada, bob)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := snapshot(t)
				var opts []callOpt
				if c.invalid {
					opts = append(opts, invalid())
				}
				for k, v := range c.header {
					opts = append(opts, withHeader(k, v))
				}
				admin.do(c.method, c.path, c.body, opts...).problem(t, c.status, c.code, c.field)
				after := snapshot(t)
				for what, was := range before {
					if after[what] != was {
						t.Errorf("the refused request changed %s:\nbefore %s\nafter  %s", what, was, after[what])
					}
				}
			})
		}

		// What the refused requests named does not exist.
		admin.do(http.MethodPost, "/admin/users", map[string]any{"email": "new@example.test"}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organizations", map[string]any{"name": "Other"}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organization-roles", map[string]any{"name": "auditor", "permissions": []string{}}).want(t, http.StatusCreated)
	})
}

// adminSnapshot returns a function that reads what the management API
// shows of a small world, keyed by what it is: a refused request must
// leave every part, the audit log included, as it was.
func adminSnapshot(admin *api, acme, globex, ada, bob string) func(t *testing.T) map[string]string {
	lists := map[string]string{
		"/admin/organizations":                        "id",
		"/admin/organizations/" + acme + "/members":   "user_id",
		"/admin/organizations/" + acme + "/roles":     "name",
		"/admin/organizations/" + globex + "/roles":   "name",
		"/admin/organization-roles":                   "name",
		"/admin/organization-permissions":             "name",
		"/admin/applications":                         "id",
		"/admin/tenants":                              "slug",
		"/admin/audit-log":                            "id",
		"/admin/users/" + ada + "/organizations":      "id",
		"/admin/users/" + bob + "/organizations":      "id",
		"/admin/organizations/" + globex + "/members": "user_id",
	}
	objects := []string{"/admin/organizations/" + acme, "/admin/users/" + ada, "/admin/users/" + bob}
	return func(t *testing.T) map[string]string {
		t.Helper()
		out := map[string]string{}
		for path, key := range lists {
			items := admin.all(t, path, key)
			var b strings.Builder
			for _, it := range items {
				b.WriteString(string(mustJSON(t, it)))
				b.WriteByte('\n')
			}
			out[path] = b.String()
		}
		for _, path := range objects {
			out[path] = admin.do(http.MethodGet, path, nil).want(t, http.StatusOK).raw
		}
		return out
	}
}
