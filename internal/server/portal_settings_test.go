package server_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// settingsURLs are every page and form of the Settings tab.
var settingsURLs = []struct {
	post bool
	path string
}{
	{false, "/settings"},
	{true, "/settings/general"},
	{true, "/settings/logos"},
	{true, "/settings/custom-data"},
	{true, "/settings/mfa"},
	{true, "/settings/jit"},
}

// jitState is an organization's JIT rule as manage reads it.
func jitState(t *testing.T, e *env, orgID string) ([]string, []string) {
	t.Helper()
	ctx := context.Background()
	domains, err := e.srv.Manage.JITEmailDomains(ctx, "default", orgID)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := e.srv.Manage.JITRoles(ctx, "default", orgID)
	if err != nil {
		t.Fatal(err)
	}
	return domains, roles
}

func getOrg(t *testing.T, e *env, orgID string) storage.Organization {
	t.Helper()
	o, err := e.srv.Manage.GetOrganization(context.Background(), "default", orgID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestPortalSettingsSave: each panel's form saves its own fields (read
// back through manage) and lands on the settings page with a notice; a
// slug change lands at the new URL.
func TestPortalSettingsSave(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		page := "/portal/o/acme/settings"

		saves := []struct {
			button string
			fields url.Values
			notice string
			check  func(o storage.Organization) bool
		}{
			{"Save general settings", url.Values{"name": {"Acme Inc"}, "slug": {"acme"}, "description": {"Makers of everything"}}, "Settings saved.",
				func(o storage.Organization) bool {
					return o.Name == "Acme Inc" && o.Slug == "acme" && o.Description == "Makers of everything"
				}},
			{"Save logos", url.Values{"logo_url": {"https://cdn.acme.test/light.png"}, "logo_dark_url": {"https://cdn.acme.test/dark.png"}}, "Settings saved.",
				func(o storage.Organization) bool {
					return o.LogoURL == "https://cdn.acme.test/light.png" && o.LogoDarkURL == "https://cdn.acme.test/dark.png"
				}},
			{"Save custom data", url.Values{"custom_data": {"{\n  \"crm_id\": \"A-1042\",\n  \"tier\": 2\n}"}}, "Settings saved.",
				func(o storage.Organization) bool { return string(o.CustomData) == `{"crm_id":"A-1042","tier":2}` }},
			{"Save MFA settings", url.Values{"mfa_required": {"on"}, "mfa_policy": {"verified"}}, "Multi-factor settings saved.",
				func(o storage.Organization) bool { return o.MFARequired && o.MFAPolicy == manage.MFAVerified }},
		}
		for _, s := range saves {
			posted, landed, body := owner.submit(page, s.button, s.fields)
			if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page || !strings.Contains(body, s.notice) {
				t.Fatalf("%s: %d, landed on %s; want 303 back to the settings with %q:\n%s", s.button, posted.StatusCode, landed.Request.URL, s.notice, body)
			}
			if o := getOrg(t, e, orgID); !s.check(o) {
				t.Errorf("%s: organization after the save: %+v", s.button, o)
			}
		}
		// Each form sent only its panel's fields: the first save's still hold.
		if o := getOrg(t, e, orgID); o.Name != "Acme Inc" || o.Description != "Makers of everything" {
			t.Errorf("a later panel changed the general settings: %+v", o)
		}
		_, body := owner.get(page)
		if srcs := e2etest.ImageSources(t, body); !slices.Contains(srcs, "https://cdn.acme.test/light.png") || !slices.Contains(srcs, "https://cdn.acme.test/dark.png") {
			t.Errorf("logos are not previewed: %v", srcs)
		}
		if !strings.Contains(body, `alt="Light logo of Acme Inc"`) || !strings.Contains(body, `alt="Dark logo of Acme Inc"`) {
			t.Error("the logo previews have no alt text")
		}
		mfa := e2etest.FormWith(t, body, "Save MFA settings")
		if mfa.Values.Get("mfa_required") != "on" || mfa.Values.Get("mfa_policy") != "verified" {
			t.Errorf("the MFA form shows %v", mfa.Values)
		}
		// The MFA checkbox off turns the requirement off.
		posted, _, _ := owner.submit(page, "Save MFA settings", url.Values{"mfa_required": nil, "mfa_policy": {"configured"}})
		if o := getOrg(t, e, orgID); posted.StatusCode != http.StatusSeeOther || o.MFARequired || o.MFAPolicy != manage.MFAConfigured {
			t.Errorf("MFA off: %d, %+v", posted.StatusCode, o)
		}

		// JIT: domains one a line (normalised by manage), default roles.
		posted, landed, body := owner.submit(page, "Save just-in-time provisioning", url.Values{
			"email_domains": {"acme.test\nACME.example\n\n"}, "roles": {"member", "billing_manager"},
		})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page || !strings.Contains(body, "Just-in-time provisioning saved.") {
			t.Fatalf("save JIT: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		domains, roles := jitState(t, e, orgID)
		if !reflect.DeepEqual(domains, []string{"acme.example", "acme.test"}) || !reflect.DeepEqual(roles, []string{"billing_manager", "member"}) {
			t.Errorf("JIT rule after the save: %v %v", domains, roles)
		}
		if jit := e2etest.FormWith(t, body, "Save just-in-time provisioning"); jit.Values.Get("email_domains") != "acme.example\nacme.test" ||
			!reflect.DeepEqual(jit.Values["roles"], []string{"billing_manager", "member"}) {
			t.Errorf("the JIT form shows %v", jit.Values)
		}

		// A new slug moves the pages: the form lands at the new URL.
		posted, landed, body = owner.submit(page, "Save general settings", url.Values{"name": {"Acme Inc"}, "slug": {"acme-inc"}, "description": {""}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme-inc/settings" || !strings.Contains(body, "Settings saved.") {
			t.Fatalf("slug change: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if loc := posted.Header.Get("Location"); !strings.HasPrefix(loc, "/t/default/portal/o/acme-inc/settings") {
			t.Errorf("slug change redirects to %s", loc)
		}
		if o := getOrg(t, e, orgID); o.Slug != "acme-inc" || o.Description != "" {
			t.Errorf("after the slug change: %+v", o)
		}
		if !strings.Contains(body, `href="/t/default/portal/o/acme-inc/members"`) {
			t.Error("the tabs do not follow the new slug")
		}
	})
}

// TestPortalSettingsRefusals: a bad logo URL, JSON that is no object, a
// taken slug or JIT domain come back in their panel with the error at the
// field and the typed text kept, and change nothing.
func TestPortalSettingsRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		ctx := context.Background()
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		owner.createOrg("Other", "other")
		other, err := e.srv.Store.GetOrganizationBySlug(ctx, "default", "other")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Manage.SetJITEmailDomains(ctx, "default", manage.Actor{ID: "test"}, other.ID, []string{"taken.test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Manage.SetJITEmailDomains(ctx, "default", manage.Actor{ID: "test"}, orgID, []string{"acme.test"}); err != nil {
			t.Fatal(err)
		}
		page := "/portal/o/acme/settings"
		before := getOrg(t, e, orgID)
		beforeDomains, beforeRoles := jitState(t, e, orgID)

		cases := []struct {
			button, form string
			fields       url.Values
			// field is the form field whose text must come back; errorID
			// the element of its error, which must contain want.
			field, errorID, want string
		}{
			{"Save general settings", "general", url.Values{"name": {"Acme Two"}, "slug": {"other"}}, "name", "general-slug-error", "This URL is taken."},
			{"Save general settings", "general", url.Values{"name": {"Acme Two"}, "slug": {"Not A Slug"}}, "slug", "general-slug-error", "Slug must be 1 to 64 lowercase letters"},
			{"Save general settings", "general", url.Values{"name": {"  "}}, "slug", "general-name-error", "Name is required."},
			{"Save logos", "logos", url.Values{"logo_url": {"javascript:alert(1)"}}, "logo_url", "logo-light-error", "Logo URL must be an absolute https URL"},
			{"Save logos", "logos", url.Values{"logo_dark_url": {"http://cdn.acme.test/dark.png"}}, "logo_dark_url", "logo-dark-error", "Dark logo URL must be an absolute https URL"},
			{"Save custom data", "custom-data", url.Values{"custom_data": {"{\n  \"crm_id\": \"A-1042\",\n}"}}, "custom_data", "custom-data-error", "This is not valid JSON: invalid character '}' looking for beginning of object key string (line 3)."},
			{"Save custom data", "custom-data", url.Values{"custom_data": {`["not", "an", "object"]`}}, "custom_data", "custom-data-error", "Custom data must be a JSON object."},
			{"Save MFA settings", "mfa", url.Values{"mfa_required": {"on"}, "mfa_policy": {"sometimes"}}, "mfa_required", "mfa-policy-error", "MFA policy must be configured or verified"},
			{"Save just-in-time provisioning", "jit", url.Values{"email_domains": {"acme.test\ntaken.test"}}, "email_domains", "jit-domains-error", "taken.test is listed by another organization of this tenant."},
			{"Save just-in-time provisioning", "jit", url.Values{"email_domains": {"gmail.com"}}, "email_domains", "jit-domains-error", `"gmail.com" is a public mail provider's domain`},
			{"Save just-in-time provisioning", "jit", url.Values{"email_domains": {"not_a_domain!"}}, "email_domains", "jit-domains-error", `"not_a_domain!" is not a domain name.`},
			{"Save just-in-time provisioning", "jit", url.Values{"email_domains": {"new.test"}, "roles": {"nope"}}, "email_domains", "jit-roles-error", `There is no role "nope" in this organization.`},
		}
		for _, c := range cases {
			posted, landed, body := owner.submit(page, c.button, c.fields)
			if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default"+page || landed.Request.URL.Fragment != "" && landed.Request.URL.Fragment != c.form {
				t.Errorf("%s %v: %d, landed on %s; want 303 back to the settings", c.button, c.fields, posted.StatusCode, landed.Request.URL)
				continue
			}
			if loc := posted.Header.Get("Location"); !strings.HasSuffix(loc, "#"+c.form) {
				t.Errorf("%s: redirected to %s; want the #%s panel", c.button, loc, c.form)
			}
			if msg := e2etest.ElementText(t, body, c.errorID); !strings.Contains(msg, c.want) {
				t.Errorf("%s %v: error %q; want %q", c.button, c.fields, msg, c.want)
			}
			typed := c.fields.Get(c.field)
			if typed == "" {
				continue
			}
			if got := e2etest.FormWith(t, body, c.button).Values.Get(c.field); got != typed {
				t.Errorf("%s: the form shows %s %q again; want the typed %q", c.button, c.field, got, typed)
			}
		}
		if after := getOrg(t, e, orgID); !reflect.DeepEqual(after, before) {
			t.Errorf("the refusals changed the organization:\n%+v\nwas\n%+v", after, before)
		}
		if d, r := jitState(t, e, orgID); !reflect.DeepEqual(d, beforeDomains) || !reflect.DeepEqual(r, beforeRoles) {
			t.Errorf("the refusals changed the JIT rule: %v %v; was %v %v", d, r, beforeDomains, beforeRoles)
		}
		// Only the refused panel shows an error.
		_, _, body := owner.submit(page, "Save logos", url.Values{"logo_url": {"ftp://x.test/l.png"}})
		if strings.Count(body, `class="field-error"`) != 1 || !strings.Contains(body, `id="logo-light-error"`) {
			t.Errorf("a refused logo shows errors elsewhere:\n%s", body)
		}
	})
}

// TestPortalSettingsAccess: the Settings tab is for write:organization
// only — member and billing_manager see no tab and get 403 from every
// Settings URL, a user of another organization 404 — and none of them
// changes anything.
func TestPortalSettingsAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		member := e.portalSignUp("default", "member@acme.test", "Mel Member")
		member.join(orgID, "member")
		billing := e.portalSignUp("default", "billing@acme.test", "Bill Manager")
		billing.join(orgID, "billing_manager")
		outsider := e.portalSignUp("default", "out@other.test", "Otto Outsider")
		admin := e.portalSignUp("default", "admin@acme.test", "Adam Admin")
		admin.join(orgID, "admin")

		before := getOrg(t, e, orgID)
		fields := url.Values{
			"name": {"Hijacked"}, "slug": {"hijacked"}, "logo_url": {"https://evil.test/l.png"}, "custom_data": {`{"x":1}`},
			"mfa_required": {"on"}, "mfa_policy": {"verified"}, "email_domains": {"acme.test"}, "roles": {"member"},
		}
		for _, c := range []struct {
			who  *portalUser
			want int
		}{{member, http.StatusForbidden}, {billing, http.StatusForbidden}, {outsider, http.StatusNotFound}} {
			if c.want == http.StatusForbidden {
				if _, body := c.who.get("/portal/o/acme"); strings.Contains(body, `href="/t/default/portal/o/acme/settings"`) {
					t.Errorf("%s sees the Settings tab", c.who.email)
				}
			}
			for _, u := range settingsURLs {
				var got int
				if u.post {
					got = c.who.postStatus("/portal/o/acme"+u.path, fields)
				} else {
					res, _ := c.who.get("/portal/o/acme" + u.path)
					got = res.StatusCode
				}
				if got != c.want {
					t.Errorf("%s %s: %d; want %d", c.who.email, u.path, got, c.want)
				}
			}
		}
		if after := getOrg(t, e, orgID); !reflect.DeepEqual(after, before) {
			t.Errorf("refused posts changed the organization: %+v", after)
		}
		if d, _ := jitState(t, e, orgID); len(d) != 0 {
			t.Errorf("refused posts set JIT domains: %v", d)
		}
		// An admin holds write:organization: the tab is theirs, but not
		// default roles beyond their own permissions.
		if _, body := admin.get("/portal/o/acme"); !strings.Contains(body, `href="/t/default/portal/o/acme/settings"`) {
			t.Error("an admin does not see the Settings tab")
		}
		_, _, body := admin.submit("/portal/o/acme/settings", "Save just-in-time provisioning", url.Values{"email_domains": {"acme.test"}, "roles": {"owner"}})
		if msg := e2etest.ElementText(t, body, "jit-roles-error"); !strings.Contains(msg, `You cannot grant "owner": it holds permissions you do not.`) {
			t.Errorf("admin making owner a default role: %q", msg)
		}
		if d, _ := jitState(t, e, orgID); len(d) != 0 {
			t.Errorf("the refused JIT form set domains: %v", d)
		}
		// Without the CSRF token, even the owner is refused.
		res, err := owner.noFollow.PostForm(owner.url("/portal/o/acme/settings/general"), url.Values{"name": {"Hijacked"}, "slug": {"acme"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || getOrg(t, e, orgID).Name != before.Name {
			t.Errorf("owner's post without CSRF token: %d", res.StatusCode)
		}
	})
}
