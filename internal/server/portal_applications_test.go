package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// csrfOf is the form token of u's pages (every page's Sign out form has it).
func (u *portalUser) portalFormToken() string {
	u.t.Helper()
	_, page := u.get("/portal")
	return e2etest.FormWith(u.t, page, "Sign out").Values.Get("csrf_token")
}

// postTo posts values (with u's CSRF token) to a tenant path and returns
// the unfollowed answer, then the page it leads to.
func (u *portalUser) postWithToken(path string, values url.Values) (*http.Response, *http.Response, string) {
	u.t.Helper()
	v := url.Values{}
	for k, vs := range values {
		v[k] = vs
	}
	v.Set("csrf_token", u.portalFormToken())
	return u.post(mustURL(u.t, u.url(path)), u.url(path), v)
}

// orgApps are the applications orgID owns.
func orgApps(t testing.TB, e *env, orgID string) []storage.Application {
	t.Helper()
	apps, _, err := e.srv.Manage.ListOrganizationApplications(context.Background(), "default", orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

// orgLinks are the applications linked to orgID.
func orgLinks(t testing.TB, e *env, orgID string) map[string][]string {
	t.Helper()
	links, _, err := e.srv.Manage.ListApplicationLinks(context.Background(), "default", orgID, storage.Page{Size: storage.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range links {
		out[l.ClientID] = l.Roles
	}
	return out
}

// createApp creates an application through the Applications tab and
// returns its client ID and the secret the page showed once ("" for a
// public client), after checking the reveal is gone on a second look.
func (u *portalUser) createApp(slug string, fields url.Values) (string, string) {
	u.t.Helper()
	t := u.t
	posted, landed, body := u.submit("/portal/o/"+slug+"/applications", "Create application", fields)
	if posted.StatusCode != http.StatusSeeOther || landed.StatusCode != http.StatusOK ||
		landed.Request.URL.Path != "/t/default/portal/o/"+slug+"/applications" || !strings.Contains(body, "Application created.") {
		t.Fatalf("create %v: %d then %d %s; want 303 to the Applications tab with a notice:\n%s", fields, posted.StatusCode, landed.StatusCode, landed.Request.URL, body)
	}
	clientID := e2etest.ElementText(t, body, "new-client-id")
	secret := ""
	if strings.Contains(body, `id="new-secret"`) {
		secret = e2etest.ElementText(t, body, "new-secret")
		e2etest.Secrets.Add("client secret", secret)
		if !strings.Contains(body, "will not be shown again") {
			t.Errorf("the secret is shown without the warning that it will not be shown again")
		}
	}
	if !strings.Contains(body, `data-copy="new-secret"`) && secret != "" {
		t.Errorf("the secret has no copy button")
	}
	// The reveal is read once: the same URL again shows no secret.
	again, body2 := u.b.Get(landed.Request.URL.String())
	if again.StatusCode != http.StatusOK || strings.Contains(body2, `id="new-secret"`) || strings.Contains(body2, `id="new-client-id"`) ||
		secret != "" && strings.Contains(body2, secret) {
		t.Errorf("second GET of the reveal URL (%d) still shows the new application's secret", again.StatusCode)
	}
	if !strings.Contains(body2, "<code>"+clientID+"</code>") {
		t.Errorf("the list does not show client ID %s in <code>", clientID)
	}
	return clientID, secret
}

// m2mToken asks for an organization token with client credentials.
func (e *env) m2mToken(clientID, secret, orgID string) (int, map[string]any) {
	e.t.Helper()
	status, body, _ := e.postForm(e.issuer("default")+"/oauth/token", clientID, secret, url.Values{
		"grant_type": {"client_credentials"}, "organization_id": {orgID},
	})
	return status, body
}

func TestPortalApplications(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")

		// One application of each kind; the confidential ones show their
		// secret once.
		kinds := []struct {
			typ, redirect string
			secret        bool
		}{
			{"web", "https://app.acme.test/callback\n\nhttp://127.0.0.1:9/cb", true},
			{"spa", "http://localhost:5173/cb", false},
			{"native", "com.acme.app:/callback", false},
			{"m2m", "", true},
		}
		ids := map[string]string{}
		secrets := map[string]string{}
		for _, k := range kinds {
			id, secret := owner.createApp("acme", url.Values{"name": {"Acme " + k.typ}, "type": {k.typ}, "redirect_uris": {k.redirect}, "roles": {"member"}})
			if (secret != "") != k.secret {
				t.Errorf("%s application: secret shown = %v; want %v", k.typ, secret != "", k.secret)
			}
			app, err := e.srv.Manage.GetOrganizationApplication(ctx, "default", orgID, id)
			if err != nil || string(app.Type) != k.typ || app.Name != "Acme "+k.typ {
				t.Errorf("%s application %s in the store: %+v, %v", k.typ, id, app, err)
			}
			if k.typ == "web" && !slices.Equal(app.RedirectURIs, []string{"https://app.acme.test/callback", "http://127.0.0.1:9/cb"}) {
				t.Errorf("web redirect URIs = %v; want the two lines, blank line dropped", app.RedirectURIs)
			}
			ids[k.typ], secrets[k.typ] = id, secret
		}
		if n := len(orgApps(t, e, orgID)); n != 4 {
			t.Errorf("organization owns %d applications; want 4", n)
		}
		// The m2m application is linked with the roles chosen, and only it
		// (the roles box is for m2m applications only).
		if links := orgLinks(t, e, orgID); len(links) != 1 || !slices.Equal(links[ids["m2m"]], []string{"member"}) {
			t.Errorf("links after create = %v; want the m2m application with [member]", links)
		}

		// The m2m secret works at the token endpoint for this organization.
		status, tok := e.m2mToken(ids["m2m"], secrets["m2m"], orgID)
		if status != http.StatusOK {
			t.Fatalf("client credentials with the portal's secret: %d %v", status, tok)
		}
		_, claims := e2etest.DecodeJWT(t, tok["access_token"].(string))
		if claims["organization_id"] != orgID {
			t.Errorf("token organization_id = %v; want %s", claims["organization_id"], orgID)
		}

		// Rotate (after its confirmation page): a new secret, shown once;
		// the old one fails at once.
		rotatePage := "/portal/o/acme/applications/" + ids["m2m"] + "/rotate"
		res, page := owner.get(rotatePage)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "stops working") {
			t.Fatalf("rotate confirmation: %d\n%s", res.StatusCode, page)
		}
		posted, landed, body := owner.submit(rotatePage, "Rotate secret", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "New secret created.") {
			t.Fatalf("rotate: %d then %s\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		newSecret := e2etest.ElementText(t, body, "new-secret")
		e2etest.Secrets.Add("client secret", newSecret)
		if newSecret == secrets["m2m"] || e2etest.ElementText(t, body, "new-client-id") != ids["m2m"] {
			t.Errorf("rotate showed the same secret or another client")
		}
		if _, again := owner.b.Get(landed.Request.URL.String()); strings.Contains(again, newSecret) {
			t.Errorf("the rotated secret is shown a second time")
		}
		status, tok = e.m2mToken(ids["m2m"], secrets["m2m"], orgID)
		wantError(t, status, tok, http.StatusUnauthorized, "invalid_client")
		if status, tok = e.m2mToken(ids["m2m"], newSecret, orgID); status != http.StatusOK {
			t.Errorf("new secret: %d %v; want 200", status, tok)
		}
		// A public client has no secret to rotate: no button, and a post
		// is refused with a message.
		posted, _, body = owner.postWithToken("/portal/o/acme/applications/"+ids["spa"]+"/rotate", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "no client secret to rotate") {
			t.Errorf("rotate of a spa: %d; want 303 back with the refusal:\n%s", posted.StatusCode, body)
		}

		// Delete, after its confirmation page.
		posted, landed, body = owner.submit("/portal/o/acme/applications/"+ids["web"]+"/delete", "Delete application", nil)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/applications" ||
			!strings.Contains(body, "Application deleted.") || strings.Contains(body, ids["web"]) {
			t.Errorf("delete: %d then %s; want 303 to the list without it:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if _, err := e.srv.Manage.GetOrganizationApplication(ctx, "default", orgID, ids["web"]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted application still there: %v", err)
		}
		if res, _ := owner.get("/portal/o/acme/applications/" + ids["web"] + "/delete"); res.StatusCode != http.StatusNotFound {
			t.Errorf("confirmation page of a deleted application: %d; want 404", res.StatusCode)
		}
		if status, tok, _ := e.postForm(e.issuer("default")+"/oauth/token", ids["web"], secrets["web"], url.Values{"grant_type": {"client_credentials"}}); status != http.StatusUnauthorized {
			t.Errorf("deleted application's secret: %d %v; want 401", status, tok)
		}

		// Bad input comes back at its field, values kept, nothing created.
		before := len(orgApps(t, e, orgID))
		posted, landed, body = owner.submit("/portal/o/acme/applications", "Create application", url.Values{"name": {""}, "type": {"web"}, "redirect_uris": {"https://ok.acme.test/cb"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/applications" ||
			!strings.Contains(body, `id="create-name-error"`) || !strings.Contains(body, `aria-describedby="create-name-error"`) ||
			!strings.Contains(body, "https://ok.acme.test/cb</textarea>") {
			t.Errorf("no name: %d then %s; want 303 back with the name error and the URIs kept:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		posted, _, body = owner.submit("/portal/o/acme/applications", "Create application", url.Values{"name": {"Insecure"}, "type": {"web"}, "redirect_uris": {"http://app.acme.test/cb"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="create-redirect-uris-error"`) ||
			!strings.Contains(body, "must use https") || !strings.Contains(body, `value="Insecure"`) {
			t.Errorf("bad redirect URI: %d; want 303 back with the redirect URIs error:\n%s", posted.StatusCode, body)
		}
		posted, _, body = owner.submit("/portal/o/acme/applications", "Create application", url.Values{"name": {"No URIs"}, "type": {"spa"}, "redirect_uris": {""}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="create-redirect-uris-error"`) {
			t.Errorf("spa without redirect URIs: %d; want the redirect URIs error:\n%s", posted.StatusCode, body)
		}
		posted, _, body = owner.submit("/portal/o/acme/applications", "Create application", url.Values{"name": {"Odd"}, "type": {"saml"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="create-type-error"`) {
			t.Errorf("unknown kind: %d; want the kind error:\n%s", posted.StatusCode, body)
		}
		if after := len(orgApps(t, e, orgID)); after != before {
			t.Errorf("refused forms created applications: %d → %d", before, after)
		}
	})
}

func TestPortalApplicationLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		appID, secret := owner.createApp("acme", url.Values{"name": {"Billing sync"}, "type": {"m2m"}})
		// A tenant-wide integration the provider linked.
		tenantApp, _ := e.m2m("default")
		e.link(t, orgID, tenantApp, "member")

		_, page := owner.get("/portal/o/acme/applications")
		row := fragmentFrom(page, `id="link-`+tenantApp+`"`, "</tr>")
		if !strings.Contains(row, "managed by your provider") || strings.Contains(row, "<form") || strings.Contains(row, "/unlink") {
			t.Errorf("tenant-wide link is not read-only:\n%s", row)
		}
		if own := fragmentFrom(page, `id="link-`+appID+`"`, "</tr>"); !strings.Contains(own, "Save roles") || !strings.Contains(own, "/unlink") {
			t.Errorf("own m2m link cannot be changed:\n%s", own)
		}

		// Change the roles of the own integration.
		posted, _, body := owner.postWithToken("/portal/o/acme/applications/links/"+appID+"/roles", url.Values{"roles": {"admin", "billing_manager"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Roles changed.") {
			t.Errorf("link roles: %d\n%s", posted.StatusCode, body)
		}
		if got := orgLinks(t, e, orgID)[appID]; !slices.Equal(got, []string{"admin", "billing_manager"}) {
			t.Errorf("link roles = %v; want [admin billing_manager]", got)
		}
		status, tok := e.m2mToken(appID, secret, orgID)
		if status != http.StatusOK {
			t.Fatalf("token after role change: %d %v", status, tok)
		}
		if _, claims := e2etest.DecodeJWT(t, tok["access_token"].(string)); !strings.Contains(strings.Join(claimStrings(claims["organization_roles"]), ","), "admin") {
			t.Errorf("token roles = %v; want admin among them", claims["organization_roles"])
		}
		// An unknown role is refused at its field.
		posted, _, body = owner.postWithToken("/portal/o/acme/applications/links/"+appID+"/roles", url.Values{"roles": {"wizard"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="lr-`+appID+`-error"`) || !strings.Contains(body, "There is no role &#34;wizard&#34;") {
			t.Errorf("unknown role: %d; want 303 back with the error:\n%s", posted.StatusCode, body)
		}

		// Unlink (confirmation page), then link again with roles.
		posted, _, body = owner.submit("/portal/o/acme/applications/links/"+appID+"/unlink", "Unlink application", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Application unlinked.") {
			t.Errorf("unlink: %d\n%s", posted.StatusCode, body)
		}
		if _, ok := orgLinks(t, e, orgID)[appID]; ok {
			t.Errorf("still linked after unlink")
		}
		status, tok = e.m2mToken(appID, secret, orgID)
		wantError(t, status, tok, http.StatusForbidden, "access_denied")
		posted, _, body = owner.submit("/portal/o/acme/applications", "Link application", url.Values{"application_id": {appID}, "roles": {"member"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Application linked.") {
			t.Errorf("link: %d\n%s", posted.StatusCode, body)
		}
		if got := orgLinks(t, e, orgID)[appID]; !slices.Equal(got, []string{"member"}) {
			t.Errorf("link roles = %v; want [member]", got)
		}
		if status, tok = e.m2mToken(appID, secret, orgID); status != http.StatusOK {
			t.Errorf("token after linking again: %d %v", status, tok)
		}
		// An application the organization does not own is refused at its
		// field, the same answer as for one that does not exist.
		posted, _, body = owner.postWithToken("/portal/o/acme/applications/links", url.Values{"application_id": {tenantApp}, "roles": {"member"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, `id="link-app-error"`) || !strings.Contains(body, "This organization has no application") {
			t.Errorf("link of an unknown application: %d; want 303 back with the error:\n%s", posted.StatusCode, body)
		}

		// The tenant-wide link cannot be removed or changed from here.
		posted, _, body = owner.postWithToken("/portal/o/acme/applications/links/"+tenantApp+"/unlink", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "belongs to the whole tenant") {
			t.Errorf("unlink of a tenant-wide application: %d; want 303 with the refusal:\n%s", posted.StatusCode, body)
		}
		posted, _, body = owner.postWithToken("/portal/o/acme/applications/links/"+tenantApp+"/roles", url.Values{"roles": {"admin"}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "belongs to the whole tenant") {
			t.Errorf("roles of a tenant-wide link: %d; want 303 with the refusal", posted.StatusCode)
		}
		if got := orgLinks(t, e, orgID)[tenantApp]; !slices.Equal(got, []string{"member"}) {
			t.Errorf("tenant-wide link changed: %v", got)
		}
		// Its rotate and delete pages are not this organization's: 404.
		for _, p := range []string{"/rotate", "/delete"} {
			if res, _ := owner.get("/portal/o/acme/applications/" + tenantApp + p); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s of a tenant-wide application: %d; want 404", p, res.StatusCode)
			}
			if posted, _, _ := owner.postWithToken("/portal/o/acme/applications/"+tenantApp+p, nil); posted.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s of a tenant-wide application: %d; want 404", p, posted.StatusCode)
			}
		}
		if _, err := e.srv.Manage.GetApplication(ctx, "default", tenantApp); err != nil {
			t.Errorf("tenant-wide application: %v", err)
		}
	})
}

// TestPortalApplicationsAuthenticationAccess: a member (no applications
// or keys permission) gets 403 on every URL of both tabs, GET and POST; a
// user of another organization gets 404; nothing changes.
func TestPortalApplicationsAuthenticationAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		appID, _ := owner.createApp("acme", url.Values{"name": {"Sync"}, "type": {"m2m"}})
		k, err := e.srv.Manage.CreateAuthKey(ctx, "default", manage.Actor{ID: "test"}, orgID, manage.AuthKeyRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e2etest.Secrets.AddPEM("private key", string(k.PrivateKeyPEM))
		member := e.portalSignUp("default", "member@acme.test", "Mel Member")
		member.join(orgID, "member")
		billing := e.portalSignUp("default", "billing@acme.test", "Bill Manager")
		billing.join(orgID, "billing_manager")
		outsider := e.portalSignUp("default", "out@other.test", "Otto Outsider")

		base := "/portal/o/acme"
		pages := []string{
			"/applications", "/applications/" + appID + "/rotate", "/applications/" + appID + "/delete",
			"/applications/links/" + appID + "/unlink",
			"/authentication", "/authentication/keys/" + k.KID + "/revoke", "/authentication/keys/" + k.KID + "/private.pem",
		}
		forms := []string{
			"/applications", "/applications/" + appID + "/rotate", "/applications/" + appID + "/delete",
			"/applications/links", "/applications/links/" + appID + "/roles", "/applications/links/" + appID + "/unlink",
			"/authentication/keys", "/authentication/keys/register", "/authentication/keys/" + k.KID + "/revoke",
		}
		fields := url.Values{"name": {"Evil"}, "type": {"m2m"}, "application_id": {appID}, "roles": {"owner"}, "alg": {"ES256"}}
		for _, c := range []struct {
			who  *portalUser
			want int
		}{{member, http.StatusForbidden}, {billing, http.StatusForbidden}, {outsider, http.StatusNotFound}} {
			for _, p := range pages {
				if res, _ := c.who.get(base + p); res.StatusCode != c.want {
					t.Errorf("%s GET %s: %d; want %d", c.who.email, p, res.StatusCode, c.want)
				}
			}
			for _, p := range forms {
				if posted, _, _ := c.who.postWithToken(base+p, fields); posted.StatusCode != c.want {
					t.Errorf("%s POST %s: %d; want %d", c.who.email, p, posted.StatusCode, c.want)
				}
			}
		}
		// A form without its CSRF token is refused too.
		posted, _, _ := owner.post(mustURL(t, owner.url(base+"/applications")), owner.url(base+"/applications"), url.Values{"name": {"No token"}, "type": {"m2m"}})
		if posted.StatusCode != http.StatusForbidden {
			t.Errorf("create without CSRF token: %d; want 403", posted.StatusCode)
		}
		if apps := orgApps(t, e, orgID); len(apps) != 1 {
			t.Errorf("applications after the refused posts: %d; want 1", len(apps))
		}
		if links := orgLinks(t, e, orgID); len(links[appID]) != 0 {
			t.Errorf("link roles changed by a refused post: %v", links[appID])
		}
		keys, _, err := e.srv.Manage.ListAuthKeys(ctx, "default", orgID, storage.Page{})
		if err != nil || len(keys) != 1 || keys[0].Status != storage.AuthKeyActive {
			t.Errorf("keys after the refused posts: %+v, %v; want the one active key", keys, err)
		}
	})
}

// between is the part of s from the first from up to the next to.
func fragmentFrom(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func claimStrings(v any) []string {
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
