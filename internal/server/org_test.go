package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// orgWorld is a signed-up user who also belongs to two organizations, and
// a third organization they are not in.
type orgWorld struct {
	*signedIn
	userID                string
	personal              string // the user's personal organization
	acme, globex, initech storage.Organization
}

func (w *orgWorld) org(t testing.TB, name string, roles ...string) storage.Organization {
	t.Helper()
	ctx := context.Background()
	o := storage.Organization{
		TenantID: storage.DefaultTenant, ID: secure.ID("org"), Name: name, Slug: secure.Slug(name),
		ProviderID: secure.ID("prv"), MFAPolicy: "configured", CreatedAt: w.e.clock.Now(),
	}
	if err := w.e.srv.Store.CreateOrganization(ctx, o); err != nil {
		t.Fatal(err)
	}
	if roles != nil {
		if err := w.e.srv.Store.AddMembership(ctx, storage.Membership{TenantID: storage.DefaultTenant, OrganizationID: o.ID, UserID: w.userID, Roles: roles, JoinedAt: w.e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func newOrgWorld(t testing.TB, e *env) *orgWorld {
	t.Helper()
	w := &orgWorld{signedIn: newSignedIn(t, e)}
	w.rp.Config.Scopes = []string{"openid", "email", "offline_access", "organizations", "organization_roles"}
	u, err := e.srv.Store.GetUserByEmail(context.Background(), storage.DefaultTenant, "grace@example.test")
	if err != nil {
		t.Fatal(err)
	}
	w.userID = u.ID
	orgs, err := e.srv.Store.ListUserOrganizations(context.Background(), storage.DefaultTenant, u.ID)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("personal organization: %v %v", orgs, err)
	}
	w.personal = orgs[0].ID
	e.advance(time.Second)
	w.acme = w.org(t, "Acme Corp", storage.RoleAdmin)
	e.advance(time.Second)
	// A custom role of Globex only, with a tenant permission of its own.
	ctx := context.Background()
	if err := e.srv.Store.CreatePermission(ctx, storage.Permission{TenantID: storage.DefaultTenant, Name: "read:invoices", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	w.globex = w.org(t, "Globex")
	if err := e.srv.Store.CreateRole(ctx, storage.Role{TenantID: storage.DefaultTenant, ID: secure.ID("rol"), OrganizationID: w.globex.ID, Name: "accountant", Permissions: []string{"read:invoices"}, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store.AddMembership(ctx, storage.Membership{TenantID: storage.DefaultTenant, OrganizationID: w.globex.ID, UserID: w.userID, Roles: []string{storage.RoleMember, "accountant"}, JoinedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	w.initech = w.org(t, "Initech") // not a member
	return w
}

// tokens runs the code flow through the session and returns the token response.
func (w *orgWorld) tokens(t testing.TB, opts ...oauth2.AuthCodeOption) map[string]any {
	t.Helper()
	q := e2etest.RedirectParams(t, must(w.br.Get(w.rp.Config.AuthCodeURL("s", append(opts, oauth2.S256ChallengeOption(w.verifier))...))))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	status, body, _ := w.exchange(q.Get("code"), w.clientID, w.secret, w.verifier)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}

func (w *orgWorld) refresh(rt string, extra url.Values) (int, map[string]any, string) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, w.token(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(w.clientID, w.secret)
	resp, err := w.e.ts.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	return resp.StatusCode, body, string(raw)
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestOrganizationClaims(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e)
		tok := w.tokens(t)
		// go-oidc verifies the ID token against the JWKS, as a client would.
		var idc map[string]any
		if err := w.rp.VerifyIDToken(tok["id_token"].(string)).Claims(&idc); err != nil {
			t.Fatal(err)
		}
		wantOrgs := []string{w.personal, w.acme.ID, w.globex.ID}
		wantRoles := sorted([]string{w.personal + ":owner", w.acme.ID + ":admin", w.globex.ID + ":member", w.globex.ID + ":accountant"})
		if got := strs(idc["organizations"]); !slices.Equal(got, wantOrgs) {
			t.Errorf("ID token organizations = %v, want %v", got, wantOrgs)
		}
		if got := sorted(strs(idc["organization_roles"])); !slices.Equal(got, wantRoles) {
			t.Errorf("ID token organization_roles = %v, want %v", got, wantRoles)
		}
		if _, ok := idc["organization_data"]; ok {
			t.Error("organization_data belongs in userinfo only")
		}

		// go-oidc's userinfo call, with the access token.
		info, err := w.rp.Provider.UserInfo(w.rp.Ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok["access_token"].(string), TokenType: "Bearer"}))
		if err != nil {
			t.Fatal(err)
		}
		if info.Subject != w.userID {
			t.Errorf("userinfo sub = %q, want %q", info.Subject, w.userID)
		}
		var ui struct {
			Organizations     []string `json:"organizations"`
			OrganizationRoles []string `json:"organization_roles"`
			OrganizationData  []struct {
				ID, Name, Slug string
				Roles          []string
			} `json:"organization_data"`
		}
		if err := info.Claims(&ui); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ui.Organizations, wantOrgs) || !slices.Equal(sorted(ui.OrganizationRoles), wantRoles) {
			t.Errorf("userinfo organizations %v roles %v", ui.Organizations, ui.OrganizationRoles)
		}
		if len(ui.OrganizationData) != 3 || ui.OrganizationData[1].ID != w.acme.ID || ui.OrganizationData[1].Slug != "acme-corp" ||
			ui.OrganizationData[1].Name != "Acme Corp" || !slices.Equal(ui.OrganizationData[1].Roles, []string{"admin"}) {
			t.Errorf("userinfo organization_data = %+v", ui.OrganizationData)
		}
	})
}

// TestOrganizationTokens: refresh + organization_id and token exchange give
// organization tokens for either organization in turn; a non-member
// organization and a nonexistent one get the same 403.
func TestOrganizationTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e)
		tok := w.tokens(t)
		rt := tok["refresh_token"].(string)

		check := func(t *testing.T, at string, org storage.Organization, roles []string, scope []string) {
			t.Helper()
			_, c := e2etest.DecodeJWT(t, at)
			if c["organization_id"] != org.ID || !slices.Equal(strs(c["aud"]), []string{"urn:orgid:organization:" + org.ID}) ||
				!slices.Equal(sorted(strs(c["organization_roles"])), sorted(roles)) ||
				!slices.Equal(sorted(strings.Fields(c["scope"].(string))), sorted(scope)) || c["sub"] != w.userID {
				t.Errorf("organization token for %s: %v", org.Name, c)
			}
		}
		adminPerms := storage.BuiltinRoles[1].Permissions
		for _, step := range []struct {
			org   storage.Organization
			roles []string
			scope []string
		}{
			{w.acme, []string{"admin"}, adminPerms},
			{w.globex, []string{"member", "accountant"}, []string{"read:invoices", "read:members", "read:organization", "read:roles"}},
			{w.acme, []string{"admin"}, adminPerms}, // switch back, no new sign-in
		} {
			status, body, raw := w.refresh(rt, url.Values{"organization_id": {step.org.ID}})
			if status != http.StatusOK {
				t.Fatalf("refresh for %s: %d %s", step.org.Name, status, raw)
			}
			check(t, body["access_token"].(string), step.org, step.roles, step.scope)
			if body["id_token"] != nil {
				t.Error("an organization token response carries an ID token")
			}
			rt = body["refresh_token"].(string)
		}

		// Requested permissions narrow the scope to what the roles grant.
		status, body, raw := w.refresh(rt, url.Values{"organization_id": {w.globex.ID}, "scope": {"read:invoices write:members"}})
		if status != http.StatusOK {
			t.Fatalf("narrowed refresh: %d %s", status, raw)
		}
		check(t, body["access_token"].(string), w.globex, []string{"member", "accountant"}, []string{"read:invoices"})
		rt = body["refresh_token"].(string)

		// Non-member and nonexistent organizations: one answer.
		status1, _, raw1 := w.refresh(rt, url.Values{"organization_id": {w.initech.ID}})
		status2, _, raw2 := w.refresh(rt, url.Values{"organization_id": {"org_doesnotexist"}})
		if status1 != http.StatusForbidden || status2 != http.StatusForbidden || raw1 != raw2 || !strings.Contains(raw1, `"access_denied"`) {
			t.Fatalf("non-member: %d %s\nnonexistent: %d %s", status1, raw1, status2, raw2)
		}

		// Token exchange gives the same.
		at := tok["access_token"].(string)
		exchange := func(clientID, secret, orgID string) (int, map[string]any) {
			s, b, _ := e.postForm(w.token(), clientID, secret, url.Values{
				"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token":      {at},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
				"organization_id":    {orgID},
			})
			return s, b
		}
		s, xb := exchange(w.clientID, w.secret, w.globex.ID)
		if s != http.StatusOK || xb["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
			t.Fatalf("token exchange: %d %v", s, xb)
		}
		check(t, xb["access_token"].(string), w.globex, []string{"member", "accountant"}, []string{"read:invoices", "read:members", "read:organization", "read:roles"})
		s, xb = exchange(w.clientID, w.secret, w.initech.ID)
		wantError(t, s, xb, http.StatusForbidden, "access_denied")
		other, otherSecret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
		s, xb = exchange(other, otherSecret, w.acme.ID)
		wantError(t, s, xb, http.StatusBadRequest, "invalid_grant")

		// A removed member is refused at the next request.
		if err := e.srv.Store.RemoveMembership(context.Background(), storage.DefaultTenant, w.acme.ID, w.userID); err != nil {
			t.Fatal(err)
		}
		status, body, raw = w.refresh(rt, url.Values{"organization_id": {w.acme.ID}})
		if status != http.StatusForbidden || body["error"] != "access_denied" {
			t.Fatalf("removed member: %d %s", status, raw)
		}
	})
}

func TestOrganizationTokenNeedsOrganizationsScope(t *testing.T) {
	e := newEnv(t, embedded)
	w := newOrgWorld(t, e)
	w.rp.Config.Scopes = []string{"openid", "offline_access"}
	tok := w.tokens(t)
	status, body, _ := w.refresh(tok["refresh_token"].(string), url.Values{"organization_id": {w.acme.ID}})
	wantError(t, status, body, http.StatusBadRequest, "invalid_scope")
}

// TestOrganizationSignIn: organization= limits sign-in to members, shows the
// organization on the page, and yields organization tokens.
func TestOrganizationSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		w := newOrgWorld(t, e)
		ctx := context.Background()
		w.acme.LogoURL = "https://acme.example/logo.png"
		if err := e.srv.Store.UpdateOrganization(ctx, w.acme); err != nil {
			t.Fatal(err)
		}

		// A fresh browser sees the organization on the sign-in page.
		page, body := e.browser().Get(w.rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(w.verifier), oauth2.SetAuthURLParam("organization", "acme-corp")))
		if page.StatusCode != http.StatusOK || !strings.Contains(body, "Acme Corp") || !strings.Contains(body, "https://acme.example/logo.png") {
			t.Fatalf("sign-in page for organization=acme-corp: %d\n%s", page.StatusCode, body)
		}

		// A member (through the session) gets organization tokens.
		tok := w.tokens(t, oauth2.SetAuthURLParam("organization", "acme-corp"))
		_, atc := e2etest.DecodeJWT(t, tok["access_token"].(string))
		_, idc := e2etest.DecodeJWT(t, tok["id_token"].(string))
		if atc["organization_id"] != w.acme.ID || idc["organization_id"] != w.acme.ID {
			t.Fatalf("organization sign-in: access %v\nID %v", atc, idc)
		}
		// Its refresh token keeps giving tokens for that organization.
		status, body2, raw := w.refresh(tok["refresh_token"].(string), nil)
		if status != http.StatusOK {
			t.Fatalf("refresh of an organization sign-in: %d %s", status, raw)
		}
		if _, c := e2etest.DecodeJWT(t, body2["access_token"].(string)); c["organization_id"] != w.acme.ID {
			t.Errorf("refreshed token of an organization sign-in: %v", c)
		}

		// A non-member and a nonexistent organization are turned back alike.
		for _, org := range []string{w.initech.Slug, w.initech.ID, "no-such-org"} {
			q := e2etest.RedirectParams(t, must(w.br.Get(w.rp.Config.AuthCodeURL("x", oauth2.S256ChallengeOption(w.verifier), oauth2.SetAuthURLParam("organization", org)))))
			if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "x" {
				t.Errorf("organization=%s: %v", org, q)
			}
		}
	})
}

// TestDistributedOrganizationClaims: beyond ORGID_ID_TOKEN_MAX_ORGS the ID
// token names userinfo as the source, and userinfo has every organization.
func TestDistributedOrganizationClaims(t *testing.T) {
	e := newEnv(t, embedded)
	w := newOrgWorld(t, e) // 3 organizations already
	for i := range 57 {
		w.org(t, fmt.Sprintf("Org %02d", i), storage.RoleMember)
	}
	tok := w.tokens(t)
	_, idc := e2etest.DecodeJWT(t, tok["id_token"].(string))
	if _, ok := idc["organizations"]; ok {
		t.Fatal("ID token lists 60 organizations")
	}
	names, _ := idc["_claim_names"].(map[string]any)
	sources, _ := idc["_claim_sources"].(map[string]any)
	src, _ := names["organizations"].(string)
	if src == "" || names["organization_roles"] != src {
		t.Fatalf("_claim_names = %v", idc["_claim_names"])
	}
	endpoint, _ := sources[src].(map[string]any)["endpoint"].(string)
	if endpoint != e.issuer(storage.DefaultTenant)+"/userinfo" {
		t.Fatalf("_claim_sources = %v", idc["_claim_sources"])
	}
	req, _ := http.NewRequest(http.MethodGet, endpoint, nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var ui struct {
		Organizations     []string `json:"organizations"`
		OrganizationRoles []string `json:"organization_roles"`
	}
	json.NewDecoder(resp.Body).Decode(&ui)
	resp.Body.Close()
	if len(ui.Organizations) != 60 || len(ui.OrganizationRoles) != 61 {
		t.Fatalf("userinfo has %d organizations and %d roles, want 60 and 61", len(ui.Organizations), len(ui.OrganizationRoles))
	}
}
