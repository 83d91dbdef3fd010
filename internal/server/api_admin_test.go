package server_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// The management API's answers, body by body (DESIGN §4). The refusals
// are in api_admin_refusals_test.go, lists and the audit log in
// api_admin_lists_test.go, the self-service API in api_org_test.go.

// keysOf returns m's keys, sorted.
func keysOf(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// wantKeys fails unless m has exactly keys.
func wantKeys(t testing.TB, what string, m map[string]any, keys ...string) {
	t.Helper()
	if got, want := keysOf(m), sorted(keys); !slices.Equal(got, want) {
		t.Errorf("%s has the keys %v, want exactly %v", what, got, want)
	}
}

// wantTime fails unless v is an RFC 3339 timestamp.
func wantTime(t testing.TB, what string, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Errorf("%s = %#v, want an RFC 3339 timestamp", what, v)
	}
	return ts
}

// obj returns v as a JSON object.
func obj(t testing.TB, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%#v is not a JSON object", v)
	}
	return m
}

// jsonValue is v as encoding/json decodes it into an any, for comparing
// with decoded answers.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantChanged fails unless after holds changed's values and before's for
// every other field: what "update only the fields given" means.
func wantChanged(t testing.TB, before, after map[string]any, changed map[string]any) {
	t.Helper()
	wantKeys(t, "the changed record", after, keysOf(before)...)
	for k, v := range before {
		want := v
		if c, ok := changed[k]; ok {
			want = jsonValue(c)
		}
		if !reflect.DeepEqual(after[k], want) {
			t.Errorf("%s = %#v, want %#v", k, after[k], want)
		}
	}
}

// ids returns the key field of every item.
func ids(items []map[string]any, key string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	return out
}

// find returns the item whose key field is value.
func find(t testing.TB, items []map[string]any, key, value string) map[string]any {
	t.Helper()
	for _, it := range items {
		if it[key] == value {
			return it
		}
	}
	t.Fatalf("no item with %s %q in %v", key, value, items)
	return nil
}

// listAll pages through the list at path, size items a page, and returns
// every item and the number of pages. Every page must carry
// next_page_token, only the last one empty; no item (named by key) may
// come twice.
func listAll(t testing.TB, c *api, path, key string, size int) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	seen := map[string]bool{}
	token := ""
	for pages := 1; pages < 1000; pages++ {
		q := url.Values{"page_size": {strconv.Itoa(size)}}
		if token != "" {
			q.Set("page_token", token)
		}
		r := c.do(http.MethodGet, path+"?"+q.Encode(), nil).want(t, http.StatusOK)
		next, ok := r.body["next_page_token"].(string)
		if !ok {
			t.Fatalf("page %d of %s has no next_page_token: %s", pages, path, r.raw)
		}
		items := r.items()
		for _, it := range items {
			id, _ := it[key].(string)
			if id == "" || seen[id] {
				t.Fatalf("page %d of %s: %s %q is empty or came before", pages, path, key, id)
			}
			seen[id] = true
			all = append(all, it)
		}
		if next == "" {
			return all, pages
		}
		if len(items) != size {
			t.Fatalf("page %d of %s has %d items, not %d, and a next page", pages, path, len(items), size)
		}
		token = next
	}
	t.Fatalf("%s does not end", path)
	return nil, 0
}

// all returns every item of the list at path.
func (a *api) all(t testing.TB, path, key string) []map[string]any {
	t.Helper()
	items, _ := listAll(t, a, path, key, storage.MaxPageSize)
	return items
}

// requestID sends X-Request-Id: id.
func requestID(id string) callOpt { return withHeader("X-Request-Id", id) }

func (a *api) createOrganization(t testing.TB, body map[string]any) map[string]any {
	t.Helper()
	return a.do(http.MethodPost, "/admin/organizations", body).want(t, http.StatusCreated).body
}

func (a *api) createUser(t testing.TB, email, name string) string {
	t.Helper()
	r := a.do(http.MethodPost, "/admin/users", map[string]any{"email": email, "name": name}).want(t, http.StatusCreated)
	return r.str("id")
}

var organizationKeys = []string{"id", "tenant_id", "name", "slug", "description", "logo_url", "logo_dark_url",
	"custom_data", "mfa_required", "mfa_policy", "provider_id", "created_at"}

// TestAdminTenants: POST /tenants on tenant default creates a tenant whose
// admin client manages it at once; no other tenant's API has tenants.
func TestAdminTenants(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		// Times finer than the stores keep: an answer must still show
		// the time a later read does.
		e.advance(1234567 * time.Nanosecond)
		admin, _ := e.admin(t, storage.DefaultTenant)

		r := admin.do(http.MethodPost, "/admin/tenants", map[string]any{"slug": "acme", "name": "Acme Inc."}).want(t, http.StatusCreated)
		wantKeys(t, "POST /tenants answer", r.body, "slug", "name", "issuer", "created_at", "admin_client")
		if r.str("slug") != "acme" || r.str("name") != "Acme Inc." || r.str("issuer") != e.issuer("acme") {
			t.Errorf("POST /tenants answer: %s", r.raw)
		}
		wantTime(t, "created_at", r.body["created_at"])
		ac := obj(t, r.body["admin_client"])
		wantKeys(t, "admin_client", ac, "client_id", "client_secret")
		clientID, _ := ac["client_id"].(string)
		secret, _ := ac["client_secret"].(string)
		if clientID == "" || len(secret) < 32 {
			t.Fatalf("admin_client = %v", ac)
		}

		// The admin client gets a management token of the new tenant with
		// client credentials and resource={issuer}/api, and it works.
		status, tok := e.clientToken(t, "acme", clientID, secret, e.issuer("acme")+"/api")
		if status != http.StatusOK {
			t.Fatalf("the new tenant's admin client: %d %v", status, tok)
		}
		acme := e.api(t, "acme", tok["access_token"].(string))
		org := acme.createOrganization(t, map[string]any{"name": "Road Runner"})
		if org["tenant_id"] != "acme" || org["slug"] != "road-runner" {
			t.Errorf("organization of the new tenant: %v", org)
		}
		// The new tenant has the organization template...
		if got := ids(acme.all(t, "/admin/organization-roles", "name"), "name"); !slices.Equal(got, []string{"admin", "billing_manager", "member", "owner"}) {
			t.Errorf("template roles of the new tenant: %v", got)
		}
		// ...and its admin client is an m2m application holding the tenant
		// role admin, whose secret is not shown again.
		apps := acme.do(http.MethodGet, "/admin/applications", nil).want(t, http.StatusOK)
		app := find(t, apps.items(), "client_id", clientID)
		if app["type"] != "m2m" || !reflect.DeepEqual(app["tenant_roles"], []any{"admin"}) || strings.Contains(apps.raw, secret) || app["client_secret"] != nil {
			t.Errorf("the admin client as an application: %s", apps.raw)
		}
		// The new tenant's token is not tenant default's, nor the reverse.
		admin.with(acme.token).do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusUnauthorized, "invalid-token", "")
		acme.with(admin.token).do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusUnauthorized, "invalid-token", "")

		// Tenant default lists the tenants, without their admin clients.
		list := admin.do(http.MethodGet, "/admin/tenants", nil).want(t, http.StatusOK)
		if got := ids(list.items(), "slug"); !slices.Equal(got, []string{"acme", storage.DefaultTenant}) {
			t.Errorf("tenants: %v", got)
		}
		if acme := find(t, list.items(), "slug", "acme"); acme["created_at"] != r.body["created_at"] || acme["name"] != "Acme Inc." || acme["issuer"] != e.issuer("acme") {
			t.Errorf("listed tenant %v, created %s", acme, r.raw)
		}
		for _, it := range list.items() {
			wantKeys(t, "a listed tenant", it, "slug", "name", "issuer", "created_at")
			wantTime(t, "a listed tenant's created_at", it["created_at"])
		}
		if strings.Contains(list.raw, secret) {
			t.Error("the tenant list shows the admin client's secret")
		}

		// Any other tenant's API refuses the tenants resource, and creates nothing.
		acme.do(http.MethodPost, "/admin/tenants", map[string]any{"slug": "nested", "name": "Nested"}).problem(t, http.StatusNotFound, "not-found", "")
		acme.do(http.MethodGet, "/admin/tenants", nil).problem(t, http.StatusNotFound, "not-found", "")
		if got := ids(admin.all(t, "/admin/tenants", "slug"), "slug"); !slices.Equal(got, []string{"acme", storage.DefaultTenant}) {
			t.Errorf("tenants after a refused creation: %v", got)
		}
		resp, err := e.ts.Client().Get(e.issuer("nested") + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("discovery of the refused tenant: %d", resp.StatusCode)
		}
	})
}

// TestAdminOrganizations: create (slug derived from the name), get, PUT
// and PATCH (only the fields given), list and delete.
func TestAdminOrganizations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		// Times finer than the stores keep: an answer must still show
		// the time a later read does.
		e.advance(1234567 * time.Nanosecond)
		admin, _ := e.admin(t, storage.DefaultTenant)

		minimal := admin.createOrganization(t, map[string]any{"name": "Acme Corp Europe"})
		wantKeys(t, "organization", minimal, organizationKeys...)
		want := map[string]any{
			"tenant_id": storage.DefaultTenant, "name": "Acme Corp Europe", "slug": "acme-corp-europe", "description": "",
			"logo_url": "", "logo_dark_url": "", "custom_data": map[string]any{}, "mfa_required": false, "mfa_policy": "configured",
		}
		for k, v := range want {
			if !reflect.DeepEqual(minimal[k], v) {
				t.Errorf("created organization: %s = %#v, want %#v", k, minimal[k], v)
			}
		}
		if minimal["id"] == "" || minimal["provider_id"] == "" || minimal["id"] == minimal["provider_id"] {
			t.Errorf("created organization: id %v provider_id %v", minimal["id"], minimal["provider_id"])
		}
		wantTime(t, "created_at", minimal["created_at"])

		e.advance(time.Second) // lists are oldest first
		full := map[string]any{
			"name": "Globex", "slug": "globex-eu", "description": "Globex in Europe",
			"logo_url": "https://globex.example/logo.png", "logo_dark_url": "https://globex.example/logo-dark.png",
			"custom_data":  map[string]any{"tier": "gold", "seats": 40, "tags": []any{"a", "b"}},
			"mfa_required": true, "mfa_policy": "verified",
		}
		globex := admin.createOrganization(t, full)
		wantKeys(t, "organization", globex, organizationKeys...)
		for k, v := range full {
			if !reflect.DeepEqual(globex[k], jsonValue(v)) {
				t.Errorf("created organization: %s = %#v, want %#v", k, globex[k], v)
			}
		}
		id := globex["id"].(string)
		path := "/admin/organizations/" + id

		got := admin.do(http.MethodGet, path, nil).want(t, http.StatusOK).body
		if !reflect.DeepEqual(got, globex) {
			t.Errorf("GET answers %v\nPOST answered %v", got, globex)
		}

		// PUT and PATCH change the fields given and nothing else.
		before := got
		change := map[string]any{"description": "Globex, all of Europe"}
		after := admin.do(http.MethodPut, path, change).want(t, http.StatusOK).body
		wantChanged(t, before, after, change)
		before = after
		change = map[string]any{"name": "Globex International", "custom_data": map[string]any{"tier": "silver"}, "mfa_required": false}
		after = admin.do(http.MethodPatch, path, change).want(t, http.StatusOK).body
		wantChanged(t, before, after, change) // the slug stays: it is not derived again
		before = after
		change = map[string]any{"slug": "globex", "logo_url": "", "mfa_policy": "configured"}
		after = admin.do(http.MethodPut, path, change).want(t, http.StatusOK).body
		wantChanged(t, before, after, change)
		// An empty body changes nothing.
		wantChanged(t, after, admin.do(http.MethodPatch, path, map[string]any{}).want(t, http.StatusOK).body, nil)
		if got := admin.do(http.MethodGet, path, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, after) {
			t.Errorf("GET after the changes: %v\nwant %v", got, after)
		}

		list := admin.do(http.MethodGet, "/admin/organizations", nil).want(t, http.StatusOK)
		if got := ids(list.items(), "id"); !slices.Equal(got, []string{minimal["id"].(string), id}) {
			t.Errorf("organizations, oldest first: %v", got)
		}
		if list.body["next_page_token"] != "" {
			t.Errorf("next_page_token of the only page: %v", list.body["next_page_token"])
		}
		for _, it := range list.items() {
			wantKeys(t, "a listed organization", it, organizationKeys...)
		}

		r := admin.do(http.MethodDelete, path, nil).want(t, http.StatusNoContent)
		if r.raw != "" {
			t.Errorf("DELETE answered a body: %s", r.raw)
		}
		admin.do(http.MethodGet, path, nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, path, nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodPatch, path, map[string]any{"name": "Ghost"}).problem(t, http.StatusNotFound, "not-found", "")
		if got := ids(admin.all(t, "/admin/organizations", "id"), "id"); !slices.Equal(got, []string{minimal["id"].(string)}) {
			t.Errorf("organizations after the delete: %v", got)
		}
		// Its slug is free again.
		admin.createOrganization(t, map[string]any{"name": "Globex"})
	})
}

// TestAdminTemplate: permissions, template roles (in every organization)
// and an organization's custom roles (in that one only).
func TestAdminTemplate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		acme := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		globex := admin.createOrganization(t, map[string]any{"name": "Globex"})["id"].(string)

		r := admin.do(http.MethodPost, "/admin/organization-permissions", map[string]any{"name": "read:invoices", "description": "See invoices"}).want(t, http.StatusCreated)
		wantKeys(t, "permission", r.body, "name", "description")
		if r.str("name") != "read:invoices" || r.str("description") != "See invoices" {
			t.Errorf("permission: %s", r.raw)
		}
		r = admin.do(http.MethodPost, "/admin/organization-permissions", map[string]any{"name": "write:invoices"}).want(t, http.StatusCreated)
		if r.body["description"] != "" {
			t.Errorf("permission without description: %s", r.raw)
		}
		perms := admin.all(t, "/admin/organization-permissions", "name")
		for _, p := range []string{"read:invoices", "write:invoices", "read:members", "write:members"} {
			wantKeys(t, "a listed permission", find(t, perms, "name", p), "name", "description")
		}

		r = admin.do(http.MethodPost, "/admin/organization-roles", map[string]any{
			"name": "accountant", "description": "Books", "permissions": []string{"write:invoices", "read:invoices"},
		}).want(t, http.StatusCreated)
		wantKeys(t, "template role", r.body, "id", "name", "description", "permissions")
		if r.str("id") == "" || r.str("name") != "accountant" || r.str("description") != "Books" ||
			!reflect.DeepEqual(r.body["permissions"], []any{"read:invoices", "write:invoices"}) {
			t.Errorf("template role: %s", r.raw)
		}
		accountant := r.body
		if got := find(t, admin.all(t, "/admin/organization-roles", "name"), "name", "accountant"); !reflect.DeepEqual(got, accountant) {
			t.Errorf("listed template role %v, created %v", got, accountant)
		}

		r = admin.do(http.MethodPost, "/admin/organizations/"+acme+"/roles", map[string]any{
			"name": "auditor", "permissions": []string{"read:invoices", "read:members"},
		}).want(t, http.StatusCreated)
		// A custom role says whose it is (an added field).
		wantKeys(t, "custom role", r.body, "id", "name", "description", "permissions", "organization_id")
		if r.str("name") != "auditor" || r.str("organization_id") != acme || r.str("description") != "" ||
			!reflect.DeepEqual(r.body["permissions"], []any{"read:invoices", "read:members"}) {
			t.Errorf("custom role: %s", r.raw)
		}

		// Every organization, one made later too, has the template roles
		// with their permissions; only Acme has auditor.
		later := admin.createOrganization(t, map[string]any{"name": "Initech"})["id"].(string)
		builtin := map[string][]string{}
		for _, role := range storage.BuiltinRoles {
			builtin[role.Name] = role.Permissions
		}
		for _, org := range []string{acme, globex, later} {
			roles := admin.all(t, "/admin/organizations/"+org+"/roles", "name")
			wantNames := []string{"accountant", "admin", "billing_manager", "member", "owner"}
			if org == acme {
				wantNames = []string{"accountant", "admin", "auditor", "billing_manager", "member", "owner"}
			}
			if got := ids(roles, "name"); !slices.Equal(got, wantNames) {
				t.Errorf("roles of %s: %v, want %v", org, got, wantNames)
				continue
			}
			if got := find(t, roles, "name", "accountant"); !reflect.DeepEqual(got, accountant) {
				t.Errorf("accountant in %s: %v", org, got)
			}
			for name, perms := range builtin {
				role := find(t, roles, "name", name)
				wantKeys(t, "built-in role "+name, role, "id", "name", "description", "permissions")
				if got := strs(role["permissions"]); !slices.Equal(got, sorted(perms)) {
					t.Errorf("%s in %s has %v, want %v", name, org, got, perms)
				}
			}
		}
		if slices.Contains(ids(admin.all(t, "/admin/organization-roles", "name"), "name"), "auditor") {
			t.Error("a custom role is listed as a template role")
		}

		// Roles are what members can hold: auditor in Acme only.
		ada := admin.createUser(t, "ada@example.test", "Ada")
		admin.do(http.MethodPost, "/admin/organizations/"+acme+"/members", map[string]any{"user_id": ada, "roles": []string{"auditor", "accountant"}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organizations/"+globex+"/members", map[string]any{"user_id": ada, "roles": []string{"auditor"}}).
			problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		admin.do(http.MethodPost, "/admin/organizations/"+globex+"/members", map[string]any{"user_id": ada, "roles": []string{"accountant"}}).want(t, http.StatusCreated)
	})
}

var userKeys = []string{"id", "email", "email_verified", "name", "mfa_enabled", "created_at", "updated_at"}

// TestAdminUsers: create (never answering a password or its hash), get,
// PUT and PATCH, their organizations, delete.
func TestAdminUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		// Times finer than the stores keep: an answer must still show
		// the time a later read does.
		e.advance(1234567 * time.Nanosecond)
		admin, _ := e.admin(t, storage.DefaultTenant)
		const password = "correct horse battery staple"

		r := admin.do(http.MethodPost, "/admin/users", map[string]any{
			"email": "ada@example.test", "password": password, "name": "Ada Lovelace", "email_verified": true,
		}).want(t, http.StatusCreated)
		// DESIGN §4's fields, plus updated_at.
		wantKeys(t, "user", r.body, userKeys...)
		if r.str("id") == "" || r.str("email") != "ada@example.test" || r.body["email_verified"] != true ||
			r.str("name") != "Ada Lovelace" || r.body["mfa_enabled"] != false {
			t.Errorf("user: %s", r.raw)
		}
		wantTime(t, "created_at", r.body["created_at"])
		for _, secret := range []string{password, "password", "hash", "argon2"} {
			if strings.Contains(strings.ToLower(r.raw), secret) {
				t.Errorf("POST /users answer holds %q: %s", secret, r.raw)
			}
		}
		ada := r.body
		path := "/admin/users/" + ada["id"].(string)
		// The stored password is a hash of the one given.
		stored, err := e.srv.Store.GetUser(e.ctx, storage.DefaultTenant, ada["id"].(string))
		if err != nil || stored.PasswordHash == "" || strings.Contains(stored.PasswordHash, password) {
			t.Errorf("stored password hash %q, %v", stored.PasswordHash, err)
		}

		bare := admin.do(http.MethodPost, "/admin/users", map[string]any{"email": "bob@example.test"}).want(t, http.StatusCreated).body
		wantKeys(t, "user", bare, userKeys...)
		if bare["name"] != "" || bare["email_verified"] != false || bare["id"] == ada["id"] {
			t.Errorf("user with an email only: %v", bare)
		}

		got := admin.do(http.MethodGet, path, nil).want(t, http.StatusOK)
		if !reflect.DeepEqual(got.body, ada) || strings.Contains(strings.ToLower(got.raw), "password") {
			t.Errorf("GET %s = %s, want %v", path, got.raw, ada)
		}

		// PUT and PATCH change the fields given; a password is taken and
		// never shown.
		before := got.body
		after := admin.do(http.MethodPut, path, map[string]any{"name": "Augusta Ada King"}).want(t, http.StatusOK).body
		wantChanged(t, before, after, map[string]any{"name": "Augusta Ada King", "updated_at": after["updated_at"]})
		before = after
		r = admin.do(http.MethodPatch, path, map[string]any{"password": "another long password"}).want(t, http.StatusOK)
		wantChanged(t, before, r.body, map[string]any{"updated_at": r.body["updated_at"]})
		if strings.Contains(r.raw, "another long password") {
			t.Errorf("PATCH answer holds the password: %s", r.raw)
		}
		before = r.body
		// A new email is unverified.
		after = admin.do(http.MethodPatch, path, map[string]any{"email": "ada@lovelace.test"}).want(t, http.StatusOK).body
		wantChanged(t, before, after, map[string]any{"email": "ada@lovelace.test", "email_verified": false, "updated_at": after["updated_at"]})

		// Their organizations, with their roles there.
		acme := admin.createOrganization(t, map[string]any{"name": "Acme"})
		globex := admin.createOrganization(t, map[string]any{"name": "Globex"})
		admin.do(http.MethodPost, "/admin/organizations/"+acme["id"].(string)+"/members", map[string]any{"user_id": ada["id"], "roles": []string{"owner", "billing_manager"}}).want(t, http.StatusCreated)
		admin.do(http.MethodPost, "/admin/organizations/"+globex["id"].(string)+"/members", map[string]any{"user_id": ada["id"]}).want(t, http.StatusCreated)
		orgs := admin.do(http.MethodGet, path+"/organizations", nil).want(t, http.StatusOK)
		wantOrgs := []any{
			map[string]any{"id": acme["id"], "name": "Acme", "slug": "acme", "roles": []any{"billing_manager", "owner"}},
			map[string]any{"id": globex["id"], "name": "Globex", "slug": "globex", "roles": []any{"member"}},
		}
		if acme["id"].(string) > globex["id"].(string) {
			wantOrgs[0], wantOrgs[1] = wantOrgs[1], wantOrgs[0] // listed by ID
		}
		if !reflect.DeepEqual(orgs.body["items"], wantOrgs) || orgs.body["next_page_token"] != "" {
			t.Errorf("GET %s/organizations = %s\nwant items %v", path, orgs.raw, wantOrgs)
		}
		if items := admin.do(http.MethodGet, "/admin/users/"+bare["id"].(string)+"/organizations", nil).want(t, http.StatusOK).items(); len(items) != 0 {
			t.Errorf("a user made by the API has organizations: %v", items)
		}
		admin.do(http.MethodGet, "/admin/users/usr_nosuchuser/organizations", nil).problem(t, http.StatusNotFound, "not-found", "")

		// Deleting the last owner of Acme is refused; with Acme gone it works.
		admin.do(http.MethodDelete, path, nil).problem(t, http.StatusConflict, "last-owner", "")
		admin.do(http.MethodDelete, "/admin/organizations/"+acme["id"].(string), nil).want(t, http.StatusNoContent)
		if r := admin.do(http.MethodDelete, path, nil).want(t, http.StatusNoContent); r.raw != "" {
			t.Errorf("DELETE answered a body: %s", r.raw)
		}
		admin.do(http.MethodGet, path, nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, path, nil).problem(t, http.StatusNotFound, "not-found", "")
		if members := admin.do(http.MethodGet, "/admin/organizations/"+globex["id"].(string)+"/members", nil).want(t, http.StatusOK).items(); len(members) != 0 {
			t.Errorf("a deleted user is still a member: %v", members)
		}
		// The email is free again.
		admin.do(http.MethodPost, "/admin/users", map[string]any{"email": "ada@lovelace.test"}).want(t, http.StatusCreated)
	})
}

var memberKeys = []string{"user_id", "email", "name", "roles", "joined_at"}

// TestAdminMembers: add one user or many, list, replace roles, remove.
func TestAdminMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		// Times finer than the stores keep: an answer must still show
		// the time a later read does.
		e.advance(1234567 * time.Nanosecond)
		admin, _ := e.admin(t, storage.DefaultTenant)
		org := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		path := "/admin/organizations/" + org + "/members"
		ada := admin.createUser(t, "ada@example.test", "Ada")
		bob := admin.createUser(t, "bob@example.test", "Bob")
		cy := admin.createUser(t, "cy@example.test", "")

		// One user, without roles: a member.
		r := admin.do(http.MethodPost, path, map[string]any{"user_id": ada}).want(t, http.StatusCreated)
		if len(r.items()) != 1 || r.body["next_page_token"] != "" {
			t.Fatalf("POST members answered %s", r.raw)
		}
		m := r.items()[0]
		wantKeys(t, "member", m, memberKeys...)
		if m["user_id"] != ada || m["email"] != "ada@example.test" || m["name"] != "Ada" || !reflect.DeepEqual(m["roles"], []any{"member"}) {
			t.Errorf("added member: %v", m)
		}
		wantTime(t, "joined_at", m["joined_at"])

		// Many users with the same roles.
		e.advance(time.Second)
		r = admin.do(http.MethodPost, path, map[string]any{"user_ids": []string{bob, cy}, "roles": []string{"billing_manager", "admin"}}).want(t, http.StatusCreated)
		if got := ids(r.items(), "user_id"); !slices.Equal(sorted(got), sorted([]string{bob, cy})) {
			t.Errorf("added members: %s", r.raw)
		}
		for _, m := range r.items() {
			wantKeys(t, "member", m, memberKeys...)
			if !reflect.DeepEqual(m["roles"], []any{"admin", "billing_manager"}) {
				t.Errorf("added member roles: %v", m)
			}
		}

		list := admin.do(http.MethodGet, path, nil).want(t, http.StatusOK)
		if got := ids(list.items(), "user_id"); len(got) != 3 || got[0] != ada {
			t.Errorf("members, oldest first: %v", got)
		}
		for _, m := range list.items() {
			wantKeys(t, "listed member", m, memberKeys...)
			wantTime(t, "joined_at", m["joined_at"])
		}
		if got := find(t, list.items(), "user_id", ada); !reflect.DeepEqual(got, m) {
			t.Errorf("listed member %v, added %v", got, m)
		}
		if m := find(t, list.items(), "user_id", cy); m["email"] != "cy@example.test" || m["name"] != "" {
			t.Errorf("listed member: %v", m)
		}

		// Replace roles.
		r = admin.do(http.MethodPut, path+"/"+ada+"/roles", map[string]any{"roles": []string{"owner", "member"}}).want(t, http.StatusOK)
		wantKeys(t, "member", r.body, memberKeys...)
		if r.body["user_id"] != ada || !reflect.DeepEqual(r.body["roles"], []any{"member", "owner"}) {
			t.Errorf("PUT roles answered %s", r.raw)
		}
		r = admin.do(http.MethodPut, path+"/"+cy+"/roles", map[string]any{"roles": []string{}}).want(t, http.StatusOK)
		if !reflect.DeepEqual(r.body["roles"], []any{}) {
			t.Errorf("PUT roles [] answered %s", r.raw)
		}
		list = admin.do(http.MethodGet, path, nil).want(t, http.StatusOK)
		if got := find(t, list.items(), "user_id", ada)["roles"]; !reflect.DeepEqual(got, []any{"member", "owner"}) {
			t.Errorf("roles after PUT: %v", got)
		}
		if got := find(t, list.items(), "user_id", cy)["roles"]; !reflect.DeepEqual(got, []any{}) {
			t.Errorf("roles after PUT []: %v", got)
		}
		admin.do(http.MethodPut, path+"/usr_nosuchuser/roles", map[string]any{"roles": []string{"member"}}).problem(t, http.StatusNotFound, "not-found", "")

		// Remove.
		if r := admin.do(http.MethodDelete, path+"/"+bob, nil).want(t, http.StatusNoContent); r.raw != "" {
			t.Errorf("DELETE answered a body: %s", r.raw)
		}
		if got := ids(admin.all(t, path, "user_id"), "user_id"); slices.Contains(got, bob) || len(got) != 2 {
			t.Errorf("members after the removal: %v", got)
		}
		admin.do(http.MethodDelete, path+"/"+bob, nil).problem(t, http.StatusNotFound, "not-found", "")
		if items := admin.do(http.MethodGet, "/admin/users/"+bob+"/organizations", nil).want(t, http.StatusOK).items(); len(items) != 0 {
			t.Errorf("a removed member still has the organization: %v", items)
		}
		// The user is still there and can be added again.
		admin.do(http.MethodGet, "/admin/users/"+bob, nil).want(t, http.StatusOK)
		admin.do(http.MethodPost, path, map[string]any{"user_id": bob}).want(t, http.StatusCreated)

		// No such organization.
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg/members", nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodPost, "/admin/organizations/org_nosuchorg/members", map[string]any{"user_id": ada}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg/roles", nil).problem(t, http.StatusNotFound, "not-found", "")
	})
}

var applicationKeys = []string{"id", "client_id", "name", "type", "redirect_uris", "post_logout_redirect_uris", "tenant_roles", "id_token_signed_response_alg", "created_at"}

// TestAdminApplications: the client secret is in the creation answer
// only, the ID is the client ID, and the application works.
func TestAdminApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.advance(1234567 * time.Nanosecond) // finer than the stores keep
		admin, adminID := e.admin(t, storage.DefaultTenant)
		org := admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)

		e.advance(time.Second) // lists are oldest first
		web := admin.do(http.MethodPost, "/admin/applications", map[string]any{
			"name": "Portal", "type": "web", "redirect_uris": []string{"https://portal.example/callback"},
			"post_logout_redirect_uris": []string{"https://portal.example/bye"},
		}).want(t, http.StatusCreated)
		wantKeys(t, "created web application", web.body, append(applicationKeys, "client_secret")...)
		webID, webSecret := web.str("client_id"), web.str("client_secret")
		if webID == "" || web.str("id") != webID || len(webSecret) < 32 || web.str("type") != "web" || web.str("name") != "Portal" ||
			!reflect.DeepEqual(web.body["redirect_uris"], []any{"https://portal.example/callback"}) ||
			!reflect.DeepEqual(web.body["post_logout_redirect_uris"], []any{"https://portal.example/bye"}) ||
			!reflect.DeepEqual(web.body["tenant_roles"], []any{}) {
			t.Errorf("created web application: %s", web.raw)
		}
		wantTime(t, "created_at", web.body["created_at"])

		e.advance(time.Second) // lists are oldest first
		spa := admin.do(http.MethodPost, "/admin/applications", map[string]any{
			"name": "Dashboard", "type": "spa", "redirect_uris": []string{"http://127.0.0.1:3000/cb"}, "organization_id": org,
		}).want(t, http.StatusCreated)
		// A public client has no secret; an organization's has organization_id.
		wantKeys(t, "created spa", spa.body, append(applicationKeys, "organization_id")...)
		if spa.str("id") != spa.str("client_id") || spa.str("organization_id") != org || spa.str("type") != "spa" {
			t.Errorf("created spa: %s", spa.raw)
		}
		e.advance(time.Second) // lists are oldest first
		native := admin.do(http.MethodPost, "/admin/applications", map[string]any{
			"name": "Phone", "type": "native", "redirect_uris": []string{"com.example.phone:/cb"},
		}).want(t, http.StatusCreated)
		wantKeys(t, "created native application", native.body, applicationKeys...)

		e.advance(time.Second) // lists are oldest first
		m2m := admin.do(http.MethodPost, "/admin/applications", map[string]any{"name": "Robot", "type": "m2m", "tenant_roles": []string{"admin"}}).want(t, http.StatusCreated)
		wantKeys(t, "created m2m application", m2m.body, append(applicationKeys, "client_secret")...)
		m2mID, m2mSecret := m2m.str("client_id"), m2m.str("client_secret")
		if m2m.str("id") != m2mID || !reflect.DeepEqual(m2m.body["tenant_roles"], []any{"admin"}) || m2mSecret == webSecret {
			t.Errorf("created m2m application: %s", m2m.raw)
		}

		// The secret works: the m2m application manages the tenant.
		status, tok := e.clientToken(t, storage.DefaultTenant, m2mID, m2mSecret, e.issuer(storage.DefaultTenant)+"/api")
		if status != http.StatusOK {
			t.Fatalf("token of the created m2m application: %d %v", status, tok)
		}
		robot := e.api(t, storage.DefaultTenant, tok["access_token"].(string))
		robot.do(http.MethodGet, "/admin/applications/"+webID, nil).want(t, http.StatusOK)

		// GET shows what POST answered, but never a secret.
		withoutSecret := maps.Clone(web.body)
		delete(withoutSecret, "client_secret")
		if got := admin.do(http.MethodGet, "/admin/applications/"+webID, nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, withoutSecret) {
			t.Errorf("GET application %v\nPOST answered %v", got, web.body)
		}
		for _, id := range []string{webID, m2mID, spa.str("id")} {
			r := admin.do(http.MethodGet, "/admin/applications/"+id, nil).want(t, http.StatusOK)
			if r.body["client_secret"] != nil || strings.Contains(r.raw, webSecret) || strings.Contains(r.raw, m2mSecret) || r.str("id") != id || r.str("client_id") != id {
				t.Errorf("GET application %s: %s", id, r.raw)
			}
		}
		list := admin.do(http.MethodGet, "/admin/applications", nil).want(t, http.StatusOK)
		if strings.Contains(list.raw, webSecret) || strings.Contains(list.raw, m2mSecret) || strings.Contains(list.raw, "client_secret") {
			t.Errorf("the application list shows secrets: %s", list.raw)
		}
		if got := ids(list.items(), "id"); !slices.Equal(got, []string{adminID, webID, spa.str("id"), native.str("id"), m2mID}) {
			t.Errorf("applications, oldest first: %v", got)
		}

		// Delete: gone, and its credentials stop working.
		if r := admin.do(http.MethodDelete, "/admin/applications/"+m2mID, nil).want(t, http.StatusNoContent); r.raw != "" {
			t.Errorf("DELETE answered a body: %s", r.raw)
		}
		admin.do(http.MethodGet, "/admin/applications/"+m2mID, nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodDelete, "/admin/applications/"+m2mID, nil).problem(t, http.StatusNotFound, "not-found", "")
		robot.do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusUnauthorized, "invalid-token", "")
		// The replica that deleted it refuses its credentials at once (other
		// replicas within their 10 s client cache, docs/decisions.md).
		status, tok = e.clientToken(t, storage.DefaultTenant, m2mID, m2mSecret, e.issuer(storage.DefaultTenant)+"/api")
		wantError(t, status, tok, http.StatusUnauthorized, "invalid_client")
	})
}
