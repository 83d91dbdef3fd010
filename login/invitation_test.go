package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

const week = 7 * 24 * time.Hour

func invitationURL(token string) string { return "/t/acme/invitation?token=" + url.QueryEscape(token) }

// TestInvitationSignUp: no account yet: the page creates one with the
// invited email (verified), joins with the invited roles, signs in; the
// link works once.
func TestInvitationSignUp(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		acme := e.org("Acme Corp")
		token, inv := e.invitation(acme.ID, "Bob@Example.com", week, "admin", "billing_manager")

		b := e.browser()
		page := b.get(invitationURL(token))
		wantStatus(t, page, http.StatusOK, "Join Acme Corp", "admin", "billing_manager",
			`<label for="email">Email</label>`, `value="Bob@Example.com" readonly`,
			`<label for="name">Name</label>`, `<label for="password">Password</label>`,
			`<button type="submit" class="primary">Create account</button>`)

		// Bad input: 422, nothing written.
		res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signup", "password": "short"})
		wantStatus(t, res, http.StatusUnprocessableEntity, "at least 8 characters")
		if _, err := e.store.GetUserByEmail(ctx, testTenant, "bob@example.com"); err == nil {
			t.Fatal("user created by a refused form")
		}

		// The form's email is ignored: the invitation's is used.
		res = b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signup", "email": "mallory@example.com", "name": "Bob", "password": "a long password"})
		wantStatus(t, res, http.StatusOK, "You joined Acme Corp")
		u, err := e.store.GetUserByEmail(ctx, testTenant, "bob@example.com")
		if err != nil {
			t.Fatalf("user not created: %v", err)
		}
		if u.Email != "Bob@Example.com" || !u.EmailVerified || u.Name != "Bob" {
			t.Errorf("user = %+v", u)
		}
		if _, err := e.store.GetUserByEmail(ctx, testTenant, "mallory@example.com"); err == nil {
			t.Error("the form's email was used")
		}
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"admin", "billing_manager"}) {
			t.Errorf("roles = %v", got)
		}
		orgs, err := e.store.ListUserOrganizations(ctx, testTenant, u.ID)
		if err != nil || len(orgs) != 2 {
			t.Errorf("organizations = %+v, %v; want the personal one and Acme", orgs, err)
		}
		if got := e.getInvitation(inv); got.StatusAt(e.clock.Now()) != storage.InvitationAccepted || got.AcceptedBy != u.ID {
			t.Errorf("invitation = %+v", got)
		}
		if !e.hasAudit(auditInvitationJoin) {
			t.Errorf("audit log %v lacks %s", e.auditActions(), auditInvitationJoin)
		}
		if s := b.session(); s == nil || s.UserID != u.ID || !slices.Equal(s.AMR, []string{"pwd"}) {
			t.Errorf("session = %+v", s)
		}
		if n := e.mailCount(); n != 0 {
			t.Errorf("%d messages: a registration through the link needs no verification mail", n)
		}

		// Second use: 410, on the page and on the form.
		wantStatus(t, b.get(invitationURL(token)), http.StatusGone, "already been used")
		res = b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "accept"})
		wantStatus(t, res, http.StatusGone, "already been used")
	})
}

// TestInvitationSignIn: an account exists: the page signs in as the
// invited email, under the sign-in limits, then joins.
func TestInvitationSignIn(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		acme := e.org("Acme Corp")
		u := e.user("bob@example.com", "correct horse")
		token, inv := e.invitation(acme.ID, "BOB@example.com", week, "member")

		b := e.browser()
		page := b.get(invitationURL(token))
		wantStatus(t, page, http.StatusOK, "Join Acme Corp", `value="BOB@example.com" readonly`,
			`<label for="password">Password</label>`, `<button type="submit" class="primary">Sign in</button>`)
		if strings.Contains(page.body, "Verification code") || strings.Contains(page.body, "Create account") {
			t.Error("page asks for more than the password")
		}

		res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "wrong"})
		wantStatus(t, res, http.StatusOK, msgBadInvitationCredentials)
		if e.isMember(acme.ID, u.ID) || b.session() != nil || e.getInvitation(inv).Status != storage.InvitationPending {
			t.Fatal("a wrong password joined or signed in")
		}
		if n := e.hits("login-account", "bob@example.com"); n != 1 {
			t.Errorf("failures counted %d, want 1", n)
		}

		res = b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "correct horse"})
		wantStatus(t, res, http.StatusOK, "You joined Acme Corp")
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"member"}) {
			t.Errorf("roles = %v", got)
		}
		if !e.getUser(u.ID).EmailVerified {
			t.Error("email not verified by the invitation link")
		}
		if s := b.session(); s == nil || s.UserID != u.ID {
			t.Errorf("session = %+v", s)
		}
	})
}

// TestInvitationSignInRateLimited: the sign-in form counts against the
// same limits as /login.
func TestInvitationSignInRateLimited(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, append(opts, withConfig(func(c *Config) { c.MaxFailuresPerAccount = 2 }))...)
		acme := e.org("Acme Corp")
		u := e.user("bob@example.com", "correct horse")
		token, _ := e.invitation(acme.ID, u.Email, week)
		b := e.browser()
		page := b.get(invitationURL(token))
		for i := 0; i < 2; i++ {
			wantStatus(t, b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "wrong"}), http.StatusOK)
		}
		res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "correct horse"})
		wantStatus(t, res, http.StatusTooManyRequests, "Too many failed sign-in attempts")
		if res.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if e.isMember(acme.ID, u.ID) {
			t.Error("joined while rate limited")
		}
	})
}

// TestInvitationSignInWithTOTP: a user with a second factor gives it too.
func TestInvitationSignInWithTOTP(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		acme := e.org("Acme Corp")
		u := e.user("bob@example.com", "correct horse")
		secret := e.enrolTOTP(u)
		token, _ := e.invitation(acme.ID, u.Email, week, "member")
		b := e.browser()
		page := b.get(invitationURL(token))
		wantStatus(t, page, http.StatusOK, `<label for="code">Verification code</label>`, `<button type="submit" class="primary">Sign in</button>`)

		res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "correct horse", "code": "000000"})
		wantStatus(t, res, http.StatusOK, msgBadInvitationCredentials)
		if e.isMember(acme.ID, u.ID) {
			t.Fatal("joined without the right code")
		}
		code, err := mfa.Code(secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Right code, wrong password: refused, and the code is not spent.
		res = b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "wrong", "code": code})
		wantStatus(t, res, http.StatusOK, msgBadInvitationCredentials)
		res = b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signin", "password": "correct horse", "code": code})
		wantStatus(t, res, http.StatusOK, "You joined Acme Corp")
		if s := b.session(); s == nil || !slices.Equal(s.AMR, amrWithTOTP) {
			t.Errorf("session = %+v, want amr %v", s, amrWithTOTP)
		}
	})
}

// TestInvitationSignedIn: the invitee signed in joins with one click; a
// member already gets the invited roles added to theirs.
func TestInvitationSignedIn(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		acme := e.org("Acme Corp")
		u := e.user("bob@example.com", "correct horse")
		if err := e.store.AddMembership(ctx, storage.Membership{TenantID: testTenant, OrganizationID: acme.ID, UserID: u.ID, Roles: []string{"billing_manager"}, JoinedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		token, _ := e.invitation(acme.ID, "Bob@Example.COM", week, "admin")
		b := e.signedIn(u.Email, "correct horse")
		page := b.get(invitationURL(token))
		wantStatus(t, page, http.StatusOK, "Join Acme Corp", "signed in as bob@example.com",
			`<button type="submit" class="primary">Accept invitation</button>`)
		if strings.Contains(page.body, `name="password"`) {
			t.Error("signed-in page asks for a password")
		}
		// A forged form: 403, nothing written.
		wantStatus(t, b.do(http.MethodPost, "/t/acme/invitation", url.Values{"csrf_token": {"x"}, "token": {token}, "action": {"accept"}}), http.StatusForbidden)
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"billing_manager"}) {
			t.Fatalf("roles after a forged form = %v", got)
		}
		res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "accept"})
		wantStatus(t, res, http.StatusOK, "You joined Acme Corp",
			`<a href="/t/acme/portal/o/`+acme.Slug+`">Open Acme Corp</a>`)
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"admin", "billing_manager"}) {
			t.Errorf("roles = %v, want the union", got)
		}
		wantStatus(t, b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "accept"}), http.StatusGone)
	})
}

// TestInvitationWrongAccount: signed in as someone else: 403, nothing
// accepted.
func TestInvitationWrongAccount(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		acme := e.org("Acme Corp")
		e.user("bob@example.com", "correct horse")
		eve := e.user("eve@example.com", "correct horse")
		token, inv := e.invitation(acme.ID, "bob@example.com", week, "admin")
		b := e.signedIn(eve.Email, "correct horse")
		res := b.get(invitationURL(token))
		wantStatus(t, res, http.StatusForbidden, "This invitation is for bob@example.com; you are signed in as eve@example.com")
		csrfPage := b.get("/t/acme/password-reset")
		res = b.post("/t/acme/invitation", csrfPage, map[string]string{"token": token, "action": "accept"})
		wantStatus(t, res, http.StatusForbidden)
		if e.isMember(acme.ID, eve.ID) || e.getInvitation(inv).Status != storage.InvitationPending {
			t.Error("wrong account joined")
		}
	})
}

// TestInvitationGone: links that can no longer be accepted get 410 pages
// that say why.
func TestInvitationGone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		spoil func(e *env, inv storage.Invitation)
		want  string
	}{
		{"revoked", func(e *env, inv storage.Invitation) {
			if err := e.store.RevokeInvitation(context.Background(), testTenant, inv.OrganizationID, inv.ID, e.clock.Now()); err != nil {
				e.t.Fatal(err)
			}
		}, "revoked"},
		{"expired", func(e *env, inv storage.Invitation) { e.clock.Advance(week) }, "expired"},
		{"replaced by a resend", func(e *env, inv storage.Invitation) {
			if err := e.store.RenewInvitation(context.Background(), testTenant, inv.OrganizationID, inv.ID, secure.Hash(secure.Token()), e.clock.Now().Add(week), e.clock.Now()); err != nil {
				e.t.Fatal(err)
			}
		}, "no longer valid"},
		{"accepted", func(e *env, inv storage.Invitation) {
			u := e.user("someone@example.com", "correct horse")
			if err := e.store.AcceptInvitation(context.Background(), testTenant, inv.ID, inv.TokenHash, u.ID, e.clock.Now()); err != nil {
				e.t.Fatal(err)
			}
		}, "already been used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			acme := e.org("Acme Corp")
			token, inv := e.invitation(acme.ID, "bob@example.com", week, "admin")
			b := e.browser()
			page := b.get(invitationURL(token))
			wantStatus(t, page, http.StatusOK)
			c.spoil(e, inv)
			wantStatus(t, b.get(invitationURL(token)), http.StatusGone, c.want)
			res := b.post("/t/acme/invitation", page, map[string]string{"token": token, "action": "signup", "password": "a long password"})
			wantStatus(t, res, http.StatusGone, c.want)
			if _, err := e.store.GetUserByEmail(context.Background(), testTenant, "bob@example.com"); err == nil {
				t.Error("account created through a dead link")
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		wantStatus(t, e.browser().get(invitationURL(secure.Token())), http.StatusGone, "no longer valid")
		wantStatus(t, e.browser().get("/t/acme/invitation"), http.StatusGone, "no longer valid")
	})
}
