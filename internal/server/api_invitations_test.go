package server_test

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Invitations through the APIs (DESIGN §3 "Invitations", §4) and the
// mail outbox they go through. Accepting one through the browser is
// another test's; here the store accepts one where a test needs it.

var invitationKeys = []string{"id", "organization_id", "email", "roles", "status", "expires_at", "created_at", "inviter_id"}

var mailKeys = []string{"id", "to", "subject", "kind", "status", "attempts", "last_error", "created_at", "sent_at", "next_attempt_at"}

// outbox returns the IDs of the tenant's outbox, newest first.
func outbox(t testing.TB, admin *api) []string {
	t.Helper()
	return ids(admin.all(t, "/admin/mail", "id"), "id")
}

// newMail returns the messages of the outbox that are not in before,
// newest first.
func newMail(t testing.TB, admin *api, before []string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range admin.all(t, "/admin/mail", "id") {
		wantKeys(t, "outbox message", m, mailKeys...)
		if !slices.Contains(before, m["id"].(string)) {
			out = append(out, m)
		}
	}
	return out
}

// mailLink reads message id through the management API and returns the
// link of its text part: the line that starts with http (DESIGN §5).
func mailLink(t testing.TB, admin *api, id string) (string, reply) {
	t.Helper()
	r := admin.do(http.MethodGet, "/admin/mail/"+id, nil).want(t, http.StatusOK)
	wantKeys(t, "outbox message with parts", r.body, append(slices.Clone(mailKeys), "text_body", "html_body")...)
	for _, line := range strings.Split(r.str("text_body"), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "http") {
			return line, r
		}
	}
	t.Fatalf("message %s has no link in its text part: %s", id, r.raw)
	return "", r
}

// invitationMail returns the one new invitation message to email and its
// link.
func invitationMail(t testing.TB, e *env, admin *api, before []string, email string) (map[string]any, string) {
	t.Helper()
	fresh := newMail(t, admin, before)
	if len(fresh) != 1 || fresh[0]["to"] != email || fresh[0]["kind"] != "invitation" {
		t.Fatalf("new mail %v, want one invitation to %s", fresh, email)
	}
	link, full := mailLink(t, admin, fresh[0]["id"].(string))
	prefix := e.issuer(storage.DefaultTenant) + "/invitation?token="
	if !strings.HasPrefix(link, prefix) || len(link) <= len(prefix) {
		t.Fatalf("invitation link %q, want %s...", link, prefix)
	}
	if !strings.Contains(full.str("html_body"), strings.ReplaceAll(link, "&", "&amp;")) {
		t.Errorf("the HTML part does not hold the link %s", link)
	}
	return fresh[0], link
}

func linkToken(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// wantNoSecret fails when the raw answer holds the link's secret.
func wantNoSecret(t testing.TB, what, raw, token string) {
	t.Helper()
	if token != "" && strings.Contains(raw, token) {
		t.Errorf("%s holds the invitation's secret: %s", what, raw)
	}
}

// TestInvitations: create, list, get, resend and revoke through the
// management API, with the mail that carries the link; every refusal
// names its field and writes nothing, no mail included.
func TestInvitations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		// A management client whose application is known: it invites.
		admin, adminApp := e.admin(t, storage.DefaultTenant)
		appName := "Test m2m"

		// Create, with roles and a lifetime.
		mailBefore := outbox(t, admin)
		r := admin.do(http.MethodPost, tm.path("/invitations"), map[string]any{
			"email": "ivy@example.test", "roles": []string{"member", "admin"}, "expires_in": 3600,
		}, requestID("invite-ivy")).want(t, http.StatusCreated)
		wantKeys(t, "invitation", r.body, invitationKeys...)
		ivy := r.body
		created := wantTime(t, "created_at", ivy["created_at"])
		if ivy["email"] != "ivy@example.test" || ivy["status"] != "pending" || ivy["organization_id"] != tm.org ||
			!reflect.DeepEqual(strs(ivy["roles"]), []string{"admin", "member"}) || !strings.HasPrefix(ivy["id"].(string), "inv_") {
			t.Errorf("created invitation: %s", r.raw)
		}
		if exp := wantTime(t, "expires_at", ivy["expires_at"]); !exp.Equal(created.Add(time.Hour)) || !created.Equal(e.clock.Now().UTC()) {
			t.Errorf("created %v, expires %v; want now (%v) and an hour later", created, exp, e.clock.Now())
		}
		if ivy["inviter_id"] != adminApp {
			t.Errorf("inviter_id %v, want the management application's client ID %s", ivy["inviter_id"], adminApp)
		}
		msg, link := invitationMail(t, e, admin, mailBefore, "ivy@example.test")
		if msg["subject"] != appName+" invited you to join Acme" {
			t.Errorf("subject %q", msg["subject"])
		}
		token := linkToken(t, link)
		wantNoSecret(t, "the creation answer", r.raw, token)
		en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "invite-ivy")
		if en["action"] != "organization.invitation.create" || en["target"] != tm.org || en["actor"] != ivy["inviter_id"] ||
			obj(t, en["details"])["invitation_id"] != ivy["id"] {
			t.Errorf("audit entry: %v", en)
		}
		wantNoSecret(t, "the audit entry", mustJSONString(t, en), token)

		// Read back.
		got := admin.do(http.MethodGet, tm.path("/invitations/"+ivy["id"].(string)), nil).want(t, http.StatusOK)
		if !reflect.DeepEqual(got.body, ivy) {
			t.Errorf("read back %s, created %v", got.raw, ivy)
		}
		wantNoSecret(t, "the invitation", got.raw, token)

		// Defaults: role member, 7 days.
		e.advance(time.Second)
		mailBefore = outbox(t, admin)
		r = admin.do(http.MethodPost, tm.path("/invitations"), map[string]any{"email": "Jo@Example.test"}).want(t, http.StatusCreated)
		jo := r.body
		if !reflect.DeepEqual(strs(jo["roles"]), []string{"member"}) ||
			!wantTime(t, "expires_at", jo["expires_at"]).Equal(wantTime(t, "created_at", jo["created_at"]).Add(7*24*time.Hour)) {
			t.Errorf("invitation with defaults: %s", r.raw)
		}
		invitationMail(t, e, admin, mailBefore, "Jo@Example.test")

		list := admin.do(http.MethodGet, tm.path("/invitations"), nil).want(t, http.StatusOK)
		if got := ids(list.items(), "id"); !reflect.DeepEqual(got, []string{ivy["id"].(string), jo["id"].(string)}) {
			t.Errorf("invitations listed %v, want ivy's and jo's, oldest first", got)
		}
		for _, it := range list.items() {
			wantKeys(t, "listed invitation", it, invitationKeys...)
		}
		if paged, _ := listAll(t, admin, tm.path("/invitations"), "id", 1); !reflect.DeepEqual(paged, list.items()) {
			t.Errorf("invitations by pages of 1: %v", paged)
		}
		wantNoSecret(t, "the list", list.raw, token)

		// Refusals: the field named, nothing written, no mail queued.
		snap := func() string {
			return mustJSONString(t, []any{admin.all(t, tm.path("/invitations"), "id"), outbox(t, admin), admin.all(t, "/admin/audit-log", "id")})
		}
		other := newTenant(t, e, admin, "other")
		before := snap()
		invite := func(body any, opts ...callOpt) reply {
			return admin.do(http.MethodPost, tm.path("/invitations"), body, opts...)
		}
		for _, bad := range []string{"not-an-email", "Ivy <ivy@example.test>", "ivy@", "@example.test", " ivy@example.test", ""} {
			invite(map[string]any{"email": bad}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email")
		}
		invite(map[string]any{"roles": []string{"member"}}, invalid()).problem(t, http.StatusUnprocessableEntity, "invalid-value", "email")
		invite(map[string]any{"email": "new@example.test", "roles": []string{"member", "nosuchrole"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		for _, n := range []int64{0, -1, 90*24*3600 + 1, 1 << 62} {
			invite(map[string]any{"email": "new@example.test", "expires_in": n}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "expires_in")
		}
		invite(`{"email": "new@example.test", "expires_in": 1.5}`, invalid()).problem(t, http.StatusBadRequest, "malformed-request", "expires_in")
		invite(map[string]any{"email": "new@example.test", "extra": true}, invalid()).problem(t, http.StatusBadRequest, "malformed-request", "extra")
		// A member already, whatever the case of the address.
		invite(map[string]any{"email": "MIA@example.test"}).problem(t, http.StatusConflict, "already-exists", "email")
		// A pending invitation: resend it instead.
		r = invite(map[string]any{"email": "ivy@EXAMPLE.test", "roles": []string{"member"}}).problem(t, http.StatusConflict, "already-exists", "email")
		if !strings.Contains(r.str("detail"), "resend") {
			t.Errorf("the conflict does not say to resend: %s", r.raw)
		}
		admin.do(http.MethodPost, "/admin/organizations/org_nosuchorg/invitations", map[string]any{"email": "new@example.test"}).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/organizations/org_nosuchorg/invitations", nil).problem(t, http.StatusNotFound, "not-found", "")
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			admin.do(method, tm.path("/invitations/inv_nosuchinvitation"), nil).problem(t, http.StatusNotFound, "not-found", "")
		}
		admin.do(http.MethodPost, tm.path("/invitations/inv_nosuchinvitation/resend"), nil).problem(t, http.StatusNotFound, "not-found", "")
		// Another tenant's administrator sees none of it.
		other.do(http.MethodPost, tm.path("/invitations"), map[string]any{"email": "new@example.test"}).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodGet, tm.path("/invitations"), nil).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodGet, tm.path("/invitations/"+ivy["id"].(string)), nil).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodPost, tm.path("/invitations/"+ivy["id"].(string)+"/resend"), nil).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodDelete, tm.path("/invitations/"+ivy["id"].(string)), nil).problem(t, http.StatusNotFound, "not-found", "")
		other.do(http.MethodGet, "/admin/mail/"+msg["id"].(string), nil).problem(t, http.StatusNotFound, "not-found", "")
		if after := snap(); after != before {
			t.Errorf("refused requests changed something:\nbefore %s\nafter  %s", before, after)
		}

		// Resend: a new link, the old one dead, the expiry renewed.
		e.advance(10 * time.Minute)
		mailBefore = outbox(t, admin)
		r = admin.do(http.MethodPost, tm.path("/invitations/"+ivy["id"].(string)+"/resend"), nil, requestID("resend-ivy")).want(t, http.StatusOK)
		wantKeys(t, "resent invitation", r.body, invitationKeys...)
		if exp := wantTime(t, "expires_at", r.body["expires_at"]); !exp.Equal(e.clock.Now().UTC().Add(time.Hour)) || r.body["status"] != "pending" || r.body["created_at"] != ivy["created_at"] {
			t.Errorf("resent invitation %s; want it to expire an hour from now (%v)", r.raw, e.clock.Now())
		}
		_, link2 := invitationMail(t, e, admin, mailBefore, "ivy@example.test")
		if link2 == link {
			t.Errorf("the resent link is the old one")
		}
		token2 := linkToken(t, link2)
		wantNoSecret(t, "the resend answer", r.raw, token2)
		invs := 0
		for _, m := range admin.all(t, "/admin/mail", "id") {
			if m["to"] == "ivy@example.test" && m["kind"] == "invitation" {
				invs++
			}
		}
		if invs != 2 {
			t.Errorf("%d invitation messages to ivy in the outbox, want 2", invs)
		}
		if _, _, err := e.srv.Store.GetInvitationByToken(e.ctx, storage.DefaultTenant, secure.Hash(token)); err == nil {
			t.Errorf("the first link still finds the invitation after a resend")
		}
		if inv, _, err := e.srv.Store.GetInvitationByToken(e.ctx, storage.DefaultTenant, secure.Hash(token2)); err != nil || inv.ID != ivy["id"] {
			t.Errorf("the new link finds %v, %v", inv.ID, err)
		}
		if en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "resend-ivy"); en["action"] != "organization.invitation.resend" {
			t.Errorf("audit entry of the resend: %v", en)
		}

		// Revoke: pending -> revoked in the list; then 409 both ways.
		admin.do(http.MethodDelete, tm.path("/invitations/"+jo["id"].(string)), nil, requestID("revoke-jo")).want(t, http.StatusNoContent)
		if it := find(t, admin.all(t, tm.path("/invitations"), "id"), "id", jo["id"].(string)); it["status"] != "revoked" {
			t.Errorf("revoked invitation listed as %v", it)
		}
		if en := find(t, admin.all(t, "/admin/audit-log", "id"), "request_id", "revoke-jo"); en["action"] != "organization.invitation.revoke" {
			t.Errorf("audit entry of the revocation: %v", en)
		}
		before = snap()
		admin.do(http.MethodDelete, tm.path("/invitations/"+jo["id"].(string)), nil).problem(t, http.StatusConflict, "already-revoked", "")
		admin.do(http.MethodPost, tm.path("/invitations/"+jo["id"].(string)+"/resend"), nil).problem(t, http.StatusConflict, "already-revoked", "")
		if after := snap(); after != before {
			t.Errorf("refused changes to a revoked invitation changed something:\nbefore %s\nafter  %s", before, after)
		}
		// A revoked invitation is no longer pending: the address may be
		// invited anew.
		mailBefore = outbox(t, admin)
		admin.do(http.MethodPost, tm.path("/invitations"), map[string]any{"email": "jo@example.test"}).want(t, http.StatusCreated)
		invitationMail(t, e, admin, mailBefore, "jo@example.test")

		// Accepted (by the store, as the acceptance page does): 409.
		if err := e.srv.Store.AcceptInvitation(e.ctx, storage.DefaultTenant, ivy["id"].(string), secure.Hash(token2), tm.outsider.id, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if it := find(t, admin.all(t, tm.path("/invitations"), "id"), "id", ivy["id"].(string)); it["status"] != "accepted" {
			t.Errorf("accepted invitation listed as %v", it)
		}
		before = snap()
		admin.do(http.MethodPost, tm.path("/invitations/"+ivy["id"].(string)+"/resend"), nil).problem(t, http.StatusConflict, "already-accepted", "")
		admin.do(http.MethodDelete, tm.path("/invitations/"+ivy["id"].(string)), nil).problem(t, http.StatusConflict, "already-accepted", "")
		if after := snap(); after != before {
			t.Errorf("refused changes to an accepted invitation changed something:\nbefore %s\nafter  %s", before, after)
		}
	})
}

// TestInvitationExpiry: an invitation past its expiry is listed as
// expired (the injected clock moves); the address may be invited again,
// and a resend renews the expired one.
func TestInvitationExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		org := "/admin/organizations/" + admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		inv := admin.do(http.MethodPost, org+"/invitations", map[string]any{"email": "ivy@example.test", "expires_in": 60}).want(t, http.StatusCreated).body
		id := inv["id"].(string)

		e.advance(59 * time.Second)
		if got := admin.do(http.MethodGet, org+"/invitations/"+id, nil).want(t, http.StatusOK).body["status"]; got != "pending" {
			t.Errorf("status a second before the expiry: %v", got)
		}
		e.advance(time.Second)
		// A new token: the old one may have expired meanwhile too.
		admin, _ = e.admin(t, storage.DefaultTenant)
		if it := find(t, admin.all(t, org+"/invitations", "id"), "id", id); it["status"] != "expired" || it["expires_at"] != inv["expires_at"] {
			t.Errorf("listed at its expiry as %v", it)
		}
		if got := admin.do(http.MethodGet, org+"/invitations/"+id, nil).want(t, http.StatusOK).body["status"]; got != "expired" {
			t.Errorf("read at its expiry as %v", got)
		}
		// Resent, it is pending again, for its lifetime from now.
		r := admin.do(http.MethodPost, org+"/invitations/"+id+"/resend", nil).want(t, http.StatusOK)
		if r.body["status"] != "pending" || !wantTime(t, "expires_at", r.body["expires_at"]).Equal(e.clock.Now().UTC().Add(time.Minute)) {
			t.Errorf("resent expired invitation: %s", r.raw)
		}
		e.advance(2 * time.Minute)
		admin, _ = e.admin(t, storage.DefaultTenant)
		// Expired again, it can be revoked, or the address invited anew.
		admin.do(http.MethodPost, org+"/invitations", map[string]any{"email": "IVY@example.test"}).want(t, http.StatusCreated)
		admin.do(http.MethodDelete, org+"/invitations/"+id, nil).want(t, http.StatusNoContent)
		if it := find(t, admin.all(t, org+"/invitations", "id"), "id", id); it["status"] != "revoked" {
			t.Errorf("revoked expired invitation listed as %v", it)
		}
	})
}

// TestSelfServiceInvitations: owners and admins invite, list, resend and
// revoke (admins no further than they hold); members only list.
func TestSelfServiceInvitations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		tm := newTeam(t, e)
		owner := tm.owner.orgAPI(t, tm.org)

		mailBefore := outbox(t, tm.admin)
		r := owner.do(http.MethodPost, tm.self("/invitations"), map[string]any{"email": "kim@example.test", "roles": []string{"owner"}}, requestID("self-invite")).want(t, http.StatusCreated)
		kim := r.body
		wantKeys(t, "invitation", kim, invitationKeys...)
		if kim["inviter_id"] != tm.owner.id || kim["status"] != "pending" {
			t.Errorf("self-service invitation: %s", r.raw)
		}
		msg, link := invitationMail(t, e, tm.admin, mailBefore, "kim@example.test")
		if msg["subject"] != "Olive Owner invited you to join Acme" {
			t.Errorf("subject %q", msg["subject"])
		}
		wantNoSecret(t, "the creation answer", r.raw, linkToken(t, link))
		if en := find(t, tm.admin.all(t, "/admin/audit-log", "id"), "request_id", "self-invite"); en["actor"] != tm.owner.id || en["action"] != "organization.invitation.create" {
			t.Errorf("audit entry: %v", en)
		}
		if got := owner.do(http.MethodGet, tm.self("/invitations/"+kim["id"].(string)), nil).want(t, http.StatusOK).body; !reflect.DeepEqual(got, kim) {
			t.Errorf("read back %v, created %v", got, kim)
		}

		adm := tm.adm.orgAPI(t, tm.org)
		e.advance(time.Second)
		r = adm.do(http.MethodPost, tm.self("/invitations"), map[string]any{"email": "lee@example.test", "roles": []string{"admin"}, "expires_in": 86400}).want(t, http.StatusCreated)
		lee := r.body
		if got := ids(adm.do(http.MethodGet, tm.self("/invitations"), nil).want(t, http.StatusOK).items(), "id"); !reflect.DeepEqual(got, []string{kim["id"].(string), lee["id"].(string)}) {
			t.Errorf("listed %v", got)
		}
		adm.do(http.MethodPost, tm.self("/invitations/"+lee["id"].(string)+"/resend"), nil).want(t, http.StatusOK)

		member := tm.member.orgAPI(t, tm.org)
		stranger := tm.outsider.orgAPI(t, mustPersonal(t, tm, tm.outsider))
		snap := func() string {
			return mustJSONString(t, []any{tm.admin.all(t, tm.path("/invitations"), "id"), outbox(t, tm.admin), tm.admin.all(t, "/admin/audit-log", "id")})
		}
		before := snap()
		// An admin grants no more than they hold, and neither renews
		// nor withdraws an owner's invitation.
		adm.do(http.MethodPost, tm.self("/invitations"), map[string]any{"email": "max@example.test", "roles": []string{"owner"}}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "roles")
		adm.do(http.MethodPost, tm.self("/invitations/"+kim["id"].(string)+"/resend"), nil).problem(t, http.StatusForbidden, "forbidden", "")
		adm.do(http.MethodDelete, tm.self("/invitations/"+kim["id"].(string)), nil).problem(t, http.StatusForbidden, "forbidden", "")
		adm.do(http.MethodPost, tm.self("/invitations"), map[string]any{"email": "adam@example.test"}).problem(t, http.StatusConflict, "already-exists", "email")
		adm.do(http.MethodPost, tm.self("/invitations"), map[string]any{"email": "max@example.test", "expires_in": 0}).problem(t, http.StatusUnprocessableEntity, "invalid-value", "expires_in")

		// A member lists and reads, and may do nothing else.
		if got := member.do(http.MethodGet, tm.self("/invitations"), nil).want(t, http.StatusOK).items(); len(got) != 2 {
			t.Errorf("a member lists %v", got)
		}
		member.do(http.MethodGet, tm.self("/invitations/"+lee["id"].(string)), nil).want(t, http.StatusOK)
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, tm.self("/invitations"), map[string]any{"email": "max@example.test"}},
			{http.MethodPost, tm.self("/invitations/" + lee["id"].(string) + "/resend"), nil},
			{http.MethodDelete, tm.self("/invitations/" + lee["id"].(string)), nil},
		} {
			r := member.do(w.method, w.path, w.body).problem(t, http.StatusForbidden, "insufficient-permission", "")
			if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="orgid", error="insufficient_scope", scope="write:members"`; got != want {
				t.Errorf("%s %s: WWW-Authenticate %q, want %q", w.method, w.path, got, want)
			}
		}
		// Another organization's path is refused like any other.
		stranger.do(http.MethodGet, tm.self("/invitations"), nil).problem(t, http.StatusForbidden, "forbidden", "")
		if after := snap(); after != before {
			t.Errorf("refused requests changed something:\nbefore %s\nafter  %s", before, after)
		}

		adm.do(http.MethodDelete, tm.self("/invitations/"+lee["id"].(string)), nil).want(t, http.StatusNoContent)
		owner.do(http.MethodDelete, tm.self("/invitations/"+kim["id"].(string)), nil).want(t, http.StatusNoContent)
		owner.do(http.MethodDelete, tm.self("/invitations/"+kim["id"].(string)), nil).problem(t, http.StatusConflict, "already-revoked", "")
		for _, it := range owner.do(http.MethodGet, tm.self("/invitations"), nil).want(t, http.StatusOK).items() {
			if it["status"] != "revoked" {
				t.Errorf("after the revocations: %v", it)
			}
		}
	})
}

// TestOutbox: the outbox lists newest first, pages, and opens one
// message; an unknown one is 404.
func TestOutbox(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		admin, _ := e.admin(t, storage.DefaultTenant)
		org := "/admin/organizations/" + admin.createOrganization(t, map[string]any{"name": "Acme"})["id"].(string)
		before := outbox(t, admin)
		for _, email := range []string{"a@example.test", "b@example.test", "c@example.test"} {
			admin.do(http.MethodPost, org+"/invitations", map[string]any{"email": email}).want(t, http.StatusCreated)
			e.advance(time.Second)
		}
		fresh := newMail(t, admin, before)
		var to []string
		for _, m := range fresh {
			to = append(to, m["to"].(string))
			created := wantTime(t, "created_at", m["created_at"])
			if m["kind"] != "invitation" || created.IsZero() {
				t.Errorf("message %v", m)
			}
		}
		if want := []string{"c@example.test", "b@example.test", "a@example.test"}; !reflect.DeepEqual(to, want) {
			t.Errorf("outbox lists %v, want newest first %v", to, want)
		}
		paged, _ := listAll(t, admin, "/admin/mail", "id", 1)
		if got := ids(paged, "id"); !reflect.DeepEqual(got, outbox(t, admin)) {
			t.Errorf("outbox by pages of 1: %v", got)
		}
		m := admin.do(http.MethodGet, "/admin/mail/"+fresh[0]["id"].(string), nil).want(t, http.StatusOK)
		if m.str("to") != "c@example.test" || !strings.Contains(m.str("text_body"), "Acme") || !strings.Contains(m.str("html_body"), "Acme") {
			t.Errorf("message: %s", m.raw)
		}
		admin.do(http.MethodGet, "/admin/mail/msg_nosuchmessage", nil).problem(t, http.StatusNotFound, "not-found", "")
		admin.do(http.MethodGet, "/admin/mail?page_token=garbage", nil).problem(t, http.StatusBadRequest, "invalid-parameter", "page_token")
	})
}
