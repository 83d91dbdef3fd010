package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// TestSignupVerificationProvisions covers the sign-up mail end to end: the
// link verifies the address, JIT makes the user a member with the rule's
// roles, and the link works once.
func TestSignupVerificationProvisions(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		acme := e.org("Acme Corp")
		e.jitRule(acme.ID, "acme.test", "admin", "member")

		id := e.authRequest(nil)
		b := e.browser()
		res := b.submit("signup", id, url.Values{"email": {"Ada@Acme.test"}, "password": {"a long password"}, "name": {"Ada"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
			t.Fatalf("sign-up: status %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		u, err := e.store.GetUserByEmail(ctx, testTenant, "ada@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if u.EmailVerified || e.isMember(acme.ID, u.ID) {
			t.Fatalf("before the link: verified %v, member %v; want neither", u.EmailVerified, e.isMember(acme.ID, u.ID))
		}
		link := e.mailLink("Ada@Acme.test", "verify_email")
		if !strings.HasPrefix(link, "http://orgid.test/t/acme/verify-email?token=") || !strings.HasSuffix(link, "&authRequestID="+id) {
			t.Fatalf("link %q", link)
		}

		res = e.browser().get(target(t, link)) // another browser: the link is the authority
		wantStatus(t, res, http.StatusOK, "Email verified", "Ada@Acme.test")
		u = e.getUser(u.ID)
		if !u.EmailVerified || u.ProvisionedAt.IsZero() {
			t.Errorf("after the link: %+v", u)
		}
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"admin", "member"}) {
			t.Errorf("roles in the JIT organization = %v, want [admin member]", got)
		}
		if !e.hasAudit(auditEmailVerify) {
			t.Errorf("audit log %v lacks %s", e.auditActions(), auditEmailVerify)
		}

		// Single use: the second click is 410 and says the address is verified.
		res = e.browser().get(target(t, link))
		wantStatus(t, res, http.StatusGone, "is verified")
	})
}

// TestVerifyContinuesSignIn: a link followed while its sign-in still
// waits offers to continue it.
func TestVerifyContinuesSignIn(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", "correct horse")
		b := e.signedIn("ada@example.com", "correct horse")
		id := e.authRequest(nil)
		page := b.get("/t/acme/verify-email?authRequestID=" + id)
		wantStatus(t, page, http.StatusOK, "Send the link again")
		res := b.post("/t/acme/verify-email/resend", page, map[string]string{"authRequestID": id})
		wantStatus(t, res, http.StatusOK, "We sent a new link")
		link := e.mailLink(u.Email, "verify_email")
		res = b.get(target(t, link))
		wantStatus(t, res, http.StatusOK, "Email verified", `href="http://orgid.test/t/acme/login?authRequestID=`+id+`">Continue</a>`)
	})
}

// TestVerifyLinkRefused: links that cannot verify anything get 410 and
// change nothing.
func TestVerifyLinkRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		spoil func(e *env, u storage.User, link string) string
		want  string
	}{
		{"unknown token", func(e *env, u storage.User, link string) string {
			return "/t/acme/verify-email?token=" + secure.Token()
		}, "no longer valid"},
		{"empty token", func(e *env, u storage.User, link string) string {
			return "/t/acme/verify-email?token="
		}, "no longer valid"},
		{"expired", func(e *env, u storage.User, link string) string {
			e.clock.Advance(24*time.Hour + time.Second)
			return target(e.t, link)
		}, "no longer valid"},
		{"email changed since", func(e *env, u storage.User, link string) string {
			u = e.getUser(u.ID)
			u.Email = "ada@elsewhere.example"
			if err := e.store.UpdateUser(context.Background(), u); err != nil {
				e.t.Fatal(err)
			}
			return target(e.t, link)
		}, "no longer valid"},
		{"other tenant", func(e *env, u storage.User, link string) string {
			return strings.Replace(target(e.t, link), "/t/acme/", "/t/other/", 1)
		}, "no longer valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			acme := e.org("Acme Corp")
			e.jitRule(acme.ID, "example.com", "member")
			u := e.user("ada@example.com", "correct horse")
			b := e.signedIn("ada@example.com", "correct horse")
			page := b.get("/t/acme/verify-email")
			wantStatus(t, b.post("/t/acme/verify-email/resend", page, nil), http.StatusOK)
			link := e.mailLink(u.Email, "verify_email")

			res := e.browser().get(c.spoil(e, u, link))
			wantStatus(t, res, http.StatusGone, c.want)
			if strings.Contains(res.body, "goroutine") {
				t.Errorf("page shows a stack trace")
			}
			if got := e.getUser(u.ID); got.EmailVerified || !got.ProvisionedAt.IsZero() || e.isMember(acme.ID, u.ID) {
				t.Errorf("refused link changed the user: %+v, member %v", got, e.isMember(acme.ID, u.ID))
			}
			if e.hasAudit(auditEmailVerify) {
				t.Errorf("refused link audited")
			}
		})
	}
}

// TestJITOnlyForNewVerifiedUsers: an unverified user is never provisioned,
// and a user provisioned before a rule existed is not added by it later,
// not even at sign-in through the organization.
func TestJITOnlyForNewVerifiedUsers(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		acme := e.org("Acme Corp")

		// Verified before any rule: provisioning has run, joined nothing.
		early := e.user("early@acme.test", "correct horse")
		b := e.signedIn(early.Email, "correct horse")
		wantStatus(t, b.post("/t/acme/verify-email/resend", b.get("/t/acme/verify-email"), nil), http.StatusOK)
		wantStatus(t, e.browser().get(target(t, e.mailLink(early.Email, "verify_email"))), http.StatusOK, "Email verified")
		if got := e.getUser(early.ID); got.ProvisionedAt.IsZero() || e.isMember(acme.ID, early.ID) {
			t.Fatalf("early user: %+v, member %v", got, e.isMember(acme.ID, early.ID))
		}

		e.jitRule(acme.ID, "acme.test") // default roles: member
		// An unverified user of the domain signs in: not a member.
		unverified := e.user("new@acme.test", "correct horse")
		e.signedIn(unverified.Email, "correct horse")
		if e.isMember(acme.ID, unverified.ID) {
			t.Errorf("unverified user became a member")
		}
		// The early user signs in through the organization: still not a member.
		id := e.authRequest(func(ar *storage.AuthRequest) { ar.OrganizationID = acme.ID })
		res := e.browser().login(id, early.Email, "correct horse")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: status %d", res.StatusCode)
		}
		if e.isMember(acme.ID, early.ID) {
			t.Errorf("a later rule added an already provisioned user")
		}
		if ar := e.getAuthRequest(id); ar.Error != "access_denied" {
			t.Errorf("organization sign-in of a non-member: %+v", ar)
		}
		// The unverified user verifies now: a member with the default role.
		wantStatus(t, e.browser().get(target(t, e.mailLinkOrResend(unverified))), http.StatusOK, "Email verified")
		if got := e.roles(acme.ID, unverified.ID); !slices.Equal(got, []string{"member"}) {
			t.Errorf("roles after verification = %v, want [member]", got)
		}
	})
}

// mailLinkOrResend has a verification link sent to u (signed in) and
// returns it.
func (e *env) mailLinkOrResend(u storage.User) string {
	e.t.Helper()
	b := e.signedIn(u.Email, "correct horse")
	wantStatus(e.t, b.post("/t/acme/verify-email/resend", b.get("/t/acme/verify-email"), nil), http.StatusOK)
	return e.mailLink(u.Email, "verify_email")
}

// TestOrganizationSignInProvisions: a user an admin created verified was
// never provisioned; their first sign-in through the organization's
// organization= login places them, and the sign-in completes.
func TestOrganizationSignInProvisions(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		acme := e.org("Acme Corp")
		e.jitRule(acme.ID, "acme.test", "billing_manager")
		u := e.userWith("ada@acme.test", "correct horse", func(u *storage.User) { u.EmailVerified = true })
		id := e.authRequest(func(ar *storage.AuthRequest) { ar.OrganizationID = acme.ID })
		res := e.browser().login(id, u.Email, "correct horse")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
			t.Fatalf("status %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if ar := e.getAuthRequest(id); !ar.Done || ar.Error != "" {
			t.Errorf("auth request %+v; want done", ar)
		}
		if got := e.roles(acme.ID, u.ID); !slices.Equal(got, []string{"billing_manager"}) {
			t.Errorf("roles = %v", got)
		}
		if !e.hasAudit("organization.members.jit") {
			t.Errorf("provisioning not audited: %v", e.auditActions())
		}
	})
}

// TestVerifyResend covers the inbox page and the resend limits.
func TestVerifyResend(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", "correct horse")

		// Not signed in: the page says what to do, without a button; the
		// resend itself needs a session.
		anon := e.browser()
		page := anon.get("/t/acme/verify-email")
		wantStatus(t, page, http.StatusOK, "Check your inbox")
		if strings.Contains(page.body, "Send the link again") {
			t.Errorf("anonymous page offers to resend")
		}
		wantStatus(t, anon.post("/t/acme/verify-email/resend", e.browserPage(anon, "/t/acme/password-reset"), nil), http.StatusUnauthorized)

		b := e.signedIn(u.Email, "correct horse")
		page = b.get("/t/acme/verify-email")
		wantStatus(t, page, http.StatusOK, "Check your inbox", "ada@example.com",
			`<button type="submit" class="primary">Send the link again</button>`, `action="/t/acme/verify-email/resend"`)

		// CSRF: refused, nothing sent.
		res := b.do(http.MethodPost, "/t/acme/verify-email/resend", url.Values{"csrf_token": {"forged"}})
		wantStatus(t, res, http.StatusForbidden)
		if n := e.mailCount(); n != 0 {
			t.Fatalf("%d messages after a forged form", n)
		}

		resend := func() response { return b.post("/t/acme/verify-email/resend", page, nil) }
		wantStatus(t, resend(), http.StatusOK, "We sent a new link")
		res = resend()
		wantStatus(t, res, http.StatusTooManyRequests, "A link was sent recently")
		if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q", ra)
		}
		for i := 2; i <= resendPerDay; i++ {
			e.clock.Advance(61 * time.Second)
			wantStatus(t, resend(), http.StatusOK)
		}
		e.clock.Advance(61 * time.Second)
		wantStatus(t, resend(), http.StatusTooManyRequests)
		if n := len(e.mailTo(u.Email, "verify_email")); n != resendPerDay {
			t.Errorf("%d verification mails, want %d", n, resendPerDay)
		}
		e.clock.Advance(24 * time.Hour)
		// A day later the daily limit has reset.
		wantStatus(t, resend(), http.StatusOK)

		// Verified: the page says so.
		wantStatus(t, e.browser().get(target(t, e.mailLink(u.Email, "verify_email"))), http.StatusOK)
		wantStatus(t, b.get("/t/acme/verify-email"), http.StatusOK, "Email verified")
		wantStatus(t, resend(), http.StatusOK, "Email verified")
	})
}

// browserPage fetches a page with a form, for its CSRF token.
func (e *env) browserPage(b *browser, target string) response {
	e.t.Helper()
	res := b.get(target)
	wantStatus(e.t, res, http.StatusOK)
	return res
}
