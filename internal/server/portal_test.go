package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPortalSignUpCreateOrganization(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		ada := e.portalSignUp("default", "ada@acme.test", "Ada Lovelace")
		_, home := ada.get("/portal")
		if !strings.Contains(home, "Ada Lovelace") || !strings.Contains(home, "owner") {
			t.Errorf("home does not show the personal organization with the owner role:\n%s", home)
		}
		posted, landed, body := ada.submit("/portal", "Create organization", url.Values{"name": {"Acme Corp"}, "slug": {"acme"}})
		if posted.StatusCode != http.StatusSeeOther {
			t.Fatalf("create organization answered %d; want 303", posted.StatusCode)
		}
		if landed.Request.URL.Path != "/t/default/portal/o/acme/applications" || !strings.Contains(body, "Organization created.") {
			t.Fatalf("landed on %d %s; want the new organization's first tab with a notice:\n%s", landed.StatusCode, landed.Request.URL, body)
		}
		_, members := ada.get("/portal/o/acme/members")
		if !strings.Contains(members, "ada@acme.test") || !strings.Contains(members, `value="owner" checked`) {
			t.Errorf("members page does not show Ada as owner:\n%s", members)
		}
		// The slug is taken now: the form comes back with the error at the field.
		posted, landed, body = ada.submit("/portal", "Create organization", url.Values{"name": {"Acme Again"}, "slug": {"acme"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal" ||
			!strings.Contains(body, `id="create-slug-error"`) || !strings.Contains(body, `value="Acme Again"`) {
			t.Errorf("taken slug: %d then %s; want 303 back to the form with the slug error and the name kept:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
	})
}
