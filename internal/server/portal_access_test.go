package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// portalOrg makes owner (signed up through the portal) create an
// organization and returns its ID.
func (u *portalUser) createOrg(name, slug string) string {
	u.t.Helper()
	posted, _, body := u.submit("/portal", "Create organization", url.Values{"name": {name}, "slug": {slug}})
	if posted.StatusCode != http.StatusSeeOther {
		u.t.Fatalf("create organization %s: %d\n%s", slug, posted.StatusCode, body)
	}
	org, err := u.e.srv.Store.GetOrganizationBySlug(context.Background(), u.tenant, slug)
	if err != nil {
		u.t.Fatal(err)
	}
	return org.ID
}

// join adds u to orgID with roles, through the management service.
func (u *portalUser) join(orgID string, roles ...string) {
	u.t.Helper()
	ctx := context.Background()
	usr, err := u.e.srv.Store.GetUserByEmail(ctx, u.tenant, u.email)
	if err != nil {
		u.t.Fatal(err)
	}
	if _, err := u.e.srv.Manage.AddMembers(ctx, u.tenant, manage.Actor{ID: "test"}, orgID, []string{usr.ID}, roles); err != nil {
		u.t.Fatal(err)
	}
}

var allTabs = []string{"applications", "members", "invitations", "roles", "authentication", "settings", "billing"}

func TestPortalRoleVisibility(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		member := e.portalSignUp("default", "member@acme.test", "Mel Member")
		member.join(orgID, "member")
		billing := e.portalSignUp("default", "billing@acme.test", "Bill Manager")
		billing.join(orgID, "billing_manager")
		outsider := e.portalSignUp("default", "out@other.test", "Otto Outsider")

		cases := []struct {
			who     *portalUser
			visible []string
		}{
			{owner, allTabs},
			{member, []string{"members", "invitations", "roles"}},
			{billing, []string{"billing"}},
		}
		for _, c := range cases {
			res, body := c.who.get("/portal/o/acme")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: organization home %d", c.who.email, res.StatusCode)
			}
			var shown []string
			for _, tab := range allTabs {
				if strings.Contains(body, `href="/t/default/portal/o/acme/`+tab+`"`) {
					shown = append(shown, tab)
				}
			}
			if strings.Join(shown, ",") != strings.Join(c.visible, ",") {
				t.Errorf("%s sees tabs %v; want %v", c.who.email, shown, c.visible)
			}
			for _, tab := range allTabs {
				res, _ := c.who.get("/portal/o/acme/" + tab)
				want := http.StatusForbidden
				if strings.Contains(","+strings.Join(c.visible, ",")+",", ","+tab+",") {
					want = http.StatusOK
				}
				if res.StatusCode != want {
					t.Errorf("%s GET %s: %d; want %d", c.who.email, tab, res.StatusCode, want)
				}
			}
		}
		// Another organization's member, and a slug that does not exist,
		// get the same 404 on every URL.
		for _, path := range []string{"/portal/o/acme", "/portal/o/acme/members", "/portal/o/acme/settings", "/portal/o/acme/billing", "/portal/o/nope/members"} {
			res, body := outsider.get(path)
			if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "not a member") {
				t.Errorf("outsider GET %s: %d; want 404", path, res.StatusCode)
			}
		}
		// The member's forms are refused too (403), with nothing changed.
		_, page := owner.get("/portal/o/acme/members")
		f := e2etest.FormWith(t, page, "Invite member")
		f.Values.Set("email", "sneaky@acme.test")
		_, memberPage := member.get("/portal/o/acme/members")
		f.Values.Set("csrf_token", e2etest.FormWith(t, memberPage, "Sign out").Values.Get("csrf_token"))
		posted, _, _ := member.post(mustURL(t, member.url("/portal/o/acme/members")), f.Action, f.Values)
		if posted.StatusCode != http.StatusForbidden {
			t.Errorf("member posting Invite member: %d; want 403", posted.StatusCode)
		}
		invs, _, err := e.srv.Manage.ListInvitations(context.Background(), "default", orgID, storage.Page{})
		if err != nil || len(invs) != 0 {
			t.Errorf("invitations after the refused post: %v, %v; want none", invs, err)
		}
	})
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
