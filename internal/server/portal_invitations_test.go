package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// csrfOf is the form token of u's browser, read from the Sign out form
// that every signed-in page has.
func (u *portalUser) csrfOf(path string) string {
	u.t.Helper()
	_, body := u.get(path)
	return e2etest.FormWith(u.t, body, "Sign out").Values.Get("csrf_token")
}

// postStatus posts values (with u's CSRF token) to a tenant path and
// returns the immediate status, redirects unfollowed.
func (u *portalUser) postStatus(path string, values url.Values) int {
	u.t.Helper()
	v := url.Values{"csrf_token": {u.csrfOf("/portal")}}
	for k, vs := range values {
		v[k] = vs
	}
	res, err := u.noFollow.PostForm(u.url(path), v)
	if err != nil {
		u.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// linkStatus opens an invitation link in a browser of its own (the
// invitee's) and returns the status: 200 while it works, 410 once dead.
func linkStatus(e *env, link string) int {
	e.t.Helper()
	res, _ := e.browser().Get(link)
	return res.StatusCode
}

// invitationRow is the table row of the invitation to email on the
// Invitations page, or "" when there is none.
func invitationRow(body, id string) string {
	i := strings.Index(body, `<tr id="invitation-`+id+`"`)
	if i < 0 {
		return ""
	}
	row := body[i:]
	if j := strings.Index(row, "</tr>"); j >= 0 {
		row = row[:j]
	}
	return row
}

func onlyInvitation(t *testing.T, e *env, orgID string) storage.Invitation {
	t.Helper()
	invs, _, err := e.srv.Manage.ListInvitations(context.Background(), "default", orgID, storage.Page{})
	if err != nil || len(invs) != 1 {
		t.Fatalf("invitations: %v, %v; want one", invs, err)
	}
	return invs[0]
}

// TestPortalInvitations: invite from the Members tab, then on the
// Invitations tab resend (a new link; the old one dead) and revoke
// (after a confirmation page; the link dead, the status revoked).
func TestPortalInvitations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		member := e.portalSignUp("default", "member@acme.test", "Mel Member")
		member.join(orgID, "member")

		posted, landed, body := owner.submit("/portal/o/acme/members", "Invite member", url.Values{"email": {"ivy@example.test"}, "roles": {"member", "admin"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/invitations" || !strings.Contains(body, "Invitation sent.") {
			t.Fatalf("invite: %d, landed on %s; want 303 to the Invitations tab with a notice:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		inv := onlyInvitation(t, e, orgID)
		row := invitationRow(body, inv.ID)
		for _, want := range []string{"ivy@example.test", ">admin<", ">member<", ">pending<", inv.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")} {
			if !strings.Contains(row, want) {
				t.Errorf("the invitation's row lacks %q: %s", want, row)
			}
		}
		first := e.lastMailLink(t, "invitation", "ivy@example.test")
		if got := linkStatus(e, first); got != http.StatusOK {
			t.Fatalf("the mailed link answers %d; want 200", got)
		}

		// A member reads the list but has no Resend or Revoke, and is
		// refused both.
		_, memberView := member.get("/portal/o/acme/invitations")
		if !strings.Contains(memberView, "ivy@example.test") || strings.Contains(memberView, "Resend invitation") || strings.Contains(memberView, "/revoke") {
			t.Errorf("a member's view of the invitations:\n%s", memberView)
		}
		if got := member.postStatus("/portal/o/acme/invitations/"+inv.ID+"/resend", nil); got != http.StatusForbidden {
			t.Errorf("member resends: %d; want 403", got)
		}
		if got := member.postStatus("/portal/o/acme/invitations/"+inv.ID+"/revoke", nil); got != http.StatusForbidden {
			t.Errorf("member revokes: %d; want 403", got)
		}

		// Resend: a new link, a new expiry from now; the old link is dead.
		e.advance(time.Hour)
		posted, landed, body = owner.submit("/portal/o/acme/invitations", "Resend invitation to ivy@example.test", nil)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/invitations" || !strings.Contains(body, "Invitation sent again with a new link.") {
			t.Fatalf("resend: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		second := e.lastMailLink(t, "invitation", "ivy@example.test")
		if second == first {
			t.Fatal("the resent mail carries the old link")
		}
		if got := linkStatus(e, first); got != http.StatusGone {
			t.Errorf("the old link after a resend answers %d; want 410", got)
		}
		if got := linkStatus(e, second); got != http.StatusOK {
			t.Errorf("the new link answers %d; want 200", got)
		}
		if renewed := onlyInvitation(t, e, orgID); !renewed.ExpiresAt.Equal(e.clock.Now().Add(manage.DefaultInvitationTTL)) {
			t.Errorf("resent invitation expires at %v; want its lifetime from now (%v)", renewed.ExpiresAt, e.clock.Now().Add(manage.DefaultInvitationTTL))
		}

		// Revoke goes through a confirmation page.
		_, list := owner.get("/portal/o/acme/invitations")
		confirm := e2etest.LinkTo(t, list, "Revoke")
		if confirm != "/t/default/portal/o/acme/invitations/"+inv.ID+"/revoke" {
			t.Fatalf("Revoke links to %s", confirm)
		}
		posted, landed, body = owner.submit(strings.TrimPrefix(confirm, "/t/default"), "Revoke invitation", nil)
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/portal/o/acme/invitations" || !strings.Contains(body, "Invitation revoked.") {
			t.Fatalf("revoke: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if row := invitationRow(body, inv.ID); !strings.Contains(row, ">revoked<") || strings.Contains(row, "Resend invitation") {
			t.Errorf("the revoked invitation's row: %s", row)
		}
		if got := onlyInvitation(t, e, orgID).Status; got != storage.InvitationRevoked {
			t.Errorf("status after revoke: %s", got)
		}
		if got := linkStatus(e, second); got != http.StatusGone {
			t.Errorf("the link of a revoked invitation answers %d; want 410", got)
		}

		// A closed invitation is neither resent nor revoked: the refusal
		// comes back to the page, and no mail goes out.
		before := e.lastMailLink(t, "invitation", "ivy@example.test")
		posted, landed, body = owner.post(mustURL(t, owner.url("/portal/o/acme/invitations")), "/t/default/portal/o/acme/invitations/"+inv.ID+"/resend",
			url.Values{"csrf_token": {owner.csrfOf("/portal")}})
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(body, "This invitation was revoked already") {
			t.Errorf("resending a revoked invitation: %d, landed on %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if after := e.lastMailLink(t, "invitation", "ivy@example.test"); after != before {
			t.Error("resending a revoked invitation sent mail")
		}
		_, page := owner.get("/portal/o/acme/invitations/" + inv.ID + "/revoke")
		if !strings.Contains(page, "This invitation was revoked already") || strings.Contains(page, "Revoke invitation</button>") {
			t.Errorf("the confirmation page of a revoked invitation:\n%s", page)
		}
		if got := owner.postStatus("/portal/o/acme/invitations/inv_nope/revoke", nil); got != http.StatusNotFound {
			t.Errorf("revoking an unknown invitation: %d; want 404", got)
		}
	})
}

// TestPortalInvitationExpired: a pending invitation past its expiry shows
// as expired, and can still be resent (pending again) or revoked.
func TestPortalInvitationExpired(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		owner := e.portalSignUp("default", "owner@acme.test", "Olive Owner")
		orgID := owner.createOrg("Acme", "acme")
		minute := int64(60)
		inv, err := e.srv.Manage.CreateInvitation(context.Background(), "default", manage.Actor{ID: "test"}, orgID,
			manage.InvitationInput{Email: "late@example.test", Roles: []string{"member"}, ExpiresIn: &minute})
		if err != nil {
			t.Fatal(err)
		}
		_, body := owner.get("/portal/o/acme/invitations")
		if row := invitationRow(body, inv.ID); !strings.Contains(row, ">pending<") {
			t.Errorf("fresh invitation's row: %s", row)
		}
		link := e.lastMailLink(t, "invitation", "late@example.test")

		e.advance(time.Minute)
		_, body = owner.get("/portal/o/acme/invitations")
		row := invitationRow(body, inv.ID)
		if !strings.Contains(row, ">expired<") || !strings.Contains(row, inv.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")) || !strings.Contains(row, "Resend invitation") {
			t.Errorf("expired invitation's row (want expired, its expiry and Resend): %s", row)
		}
		if got := linkStatus(e, link); got != http.StatusGone {
			t.Errorf("expired link answers %d; want 410", got)
		}
		posted, _, body := owner.submit("/portal/o/acme/invitations", "Resend invitation to late@example.test", nil)
		if posted.StatusCode != http.StatusSeeOther || !strings.Contains(invitationRow(body, inv.ID), ">pending<") {
			t.Errorf("resending the expired invitation: %d\n%s", posted.StatusCode, invitationRow(body, inv.ID))
		}
		if got := linkStatus(e, e.lastMailLink(t, "invitation", "late@example.test")); got != http.StatusOK {
			t.Errorf("the new link of the resent invitation answers %d; want 200", got)
		}
	})
}
