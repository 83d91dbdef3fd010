package login

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
)

// TestLoginLinksToPasswordReset: the sign-in form offers the reset and
// keeps the sign-in.
func TestLoginLinksToPasswordReset(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		id := e.authRequest(nil)
		res := e.browser().get("/t/acme/login?authRequestID=" + id)
		wantStatus(t, res, http.StatusOK, `<a href="password-reset?authRequestID=`+id+`">Forgot your password?</a>`)
	})
}

// TestPasswordReset covers the reset end to end: the form, the mail, the
// new password, the sessions it ends, single use.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", "old password")
		old := e.signedIn(u.Email, "old password")
		if old.session() == nil {
			t.Fatal("no session after sign-in")
		}
		e.clock.Advance(time.Minute)

		id := e.authRequest(nil)
		b := e.browser()
		form := b.get("/t/acme/password-reset?authRequestID=" + id)
		wantStatus(t, form, http.StatusOK, `<label for="email">Email</label>`, `<button type="submit" class="primary">Continue</button>`,
			`name="authRequestID" value="`+id+`"`)
		res := b.post("/t/acme/password-reset", form, map[string]string{"email": "ADA@example.com", "authRequestID": id})
		wantStatus(t, res, http.StatusOK, "If an account exists for that email, we sent a link")
		link := e.mailLink(u.Email, "password_reset")
		if !strings.HasPrefix(link, "http://orgid.test/t/acme/password-reset/new?token=") {
			t.Fatalf("link %q", link)
		}

		page := b.get(target(t, link))
		wantStatus(t, page, http.StatusOK, `<label for="password">Password</label>`, `<button type="submit" class="primary">Set password</button>`)
		tok := url.Values{}
		if u, err := url.Parse(link); err == nil {
			tok = u.Query()
		}
		fields := func(pw string) map[string]string {
			return map[string]string{"token": tok.Get("token"), "password": pw, "authRequestID": id}
		}

		// A bad password: 422, the link is not spent.
		res = b.post("/t/acme/password-reset/new", page, fields("short"))
		wantStatus(t, res, http.StatusUnprocessableEntity, "at least 8 characters")
		wantStatus(t, b.get(target(t, link)), http.StatusOK, "Set password")
		if ok, _ := password.Verify(e.getUser(u.ID).PasswordHash, "old password"); !ok {
			t.Fatal("password changed by a refused form")
		}

		res = b.post("/t/acme/password-reset/new", page, fields("new password!"))
		wantStatus(t, res, http.StatusOK, "Password changed", `href="http://orgid.test/t/acme/login?authRequestID=`+id+`">Sign in</a>`)
		got := e.getUser(u.ID)
		if ok, _ := password.Verify(got.PasswordHash, "new password!"); !ok || !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
			t.Errorf("new password not set: %q", got.PasswordHash)
		}
		if !got.EmailVerified || got.SessionsNotBefore.IsZero() {
			t.Errorf("user after reset: %+v", got)
		}
		if !e.hasAudit(auditPasswordReset) {
			t.Errorf("audit log %v lacks %s", e.auditActions(), auditPasswordReset)
		}

		// The session from before the reset is over.
		if old.session() != nil {
			t.Error("session started before the reset is still valid")
		}
		id2 := e.authRequest(nil)
		wantStatus(t, old.get("/t/acme/login?authRequestID="+id2), http.StatusOK, "Sign in")

		// Single use.
		wantStatus(t, b.get(target(t, link)), http.StatusGone, "no longer valid")
		wantStatus(t, b.post("/t/acme/password-reset/new", page, fields("another password")), http.StatusGone)

		// The old password is dead, the new one signs in.
		if res := e.browser().login(e.authRequest(nil), u.Email, "old password"); res.StatusCode != http.StatusOK {
			t.Errorf("old password: status %d", res.StatusCode)
		}
		e.signedIn(u.Email, "new password!")
	})
}

// TestPasswordResetNoEnumeration: an unknown email gets the same answer
// and no mail.
func TestPasswordResetNoEnumeration(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		e.user("ada@example.com", "old password")
		b := e.browser()
		form := b.get("/t/acme/password-reset")
		known := b.post("/t/acme/password-reset", form, map[string]string{"email": "ada@example.com"})
		unknown := b.post("/t/acme/password-reset", form, map[string]string{"email": "bob@example.com"})
		wantStatus(t, known, http.StatusOK)
		wantStatus(t, unknown, http.StatusOK)
		if known.body != unknown.body {
			t.Errorf("answers differ:\n%s\n---\n%s", known.body, unknown.body)
		}
		if n := e.mailCount(); n != 1 {
			t.Errorf("%d messages, want 1 (for the known email only)", n)
		}
		// Malformed input is the user's to fix, and names the field.
		wantStatus(t, b.post("/t/acme/password-reset", form, map[string]string{"email": "not an email"}), http.StatusUnprocessableEntity, "valid email")
		// A forged form changes nothing.
		wantStatus(t, b.do(http.MethodPost, "/t/acme/password-reset", url.Values{"csrf_token": {"x"}, "email": {"ada@example.com"}}), http.StatusForbidden)
		if n := e.mailCount(); n != 1 {
			t.Errorf("%d messages after refused forms, want 1", n)
		}
	})
}

// TestPasswordResetRateLimits: per email and per client IP.
func TestPasswordResetRateLimits(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		e.user("ada@example.com", "old password")
		b := e.browser()
		form := b.get("/t/acme/password-reset")
		for i := 0; i < resetPerEmail; i++ {
			wantStatus(t, b.post("/t/acme/password-reset", form, map[string]string{"email": "ada@example.com"}), http.StatusOK)
		}
		res := b.post("/t/acme/password-reset", form, map[string]string{"email": "Ada@example.com"})
		wantStatus(t, res, http.StatusTooManyRequests, "Too many requests")
		if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra <= 0 || ra > int(resetWindow/time.Second) {
			t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		if n := e.mailCount(); n != resetPerEmail {
			t.Errorf("%d messages, want %d", n, resetPerEmail)
		}
		// Per IP: other emails from the same address.
		for i := resetPerEmail; i < resetPerIP; i++ {
			wantStatus(t, b.post("/t/acme/password-reset", form, map[string]string{"email": "u" + strconv.Itoa(i) + "@example.com"}), http.StatusOK)
		}
		wantStatus(t, b.post("/t/acme/password-reset", form, map[string]string{"email": "fresh@example.com"}), http.StatusTooManyRequests)
		// Another IP is not limited, and the window passes.
		other := e.browser()
		other.ip = "198.51.100.9"
		wantStatus(t, other.post("/t/acme/password-reset", other.get("/t/acme/password-reset"), map[string]string{"email": "fresh@example.com"}), http.StatusOK)
		e.clock.Advance(resetWindow + time.Second)
		wantStatus(t, b.post("/t/acme/password-reset", form, map[string]string{"email": "ada@example.com"}), http.StatusOK)
	})
}

// TestPasswordResetLinkRefused: unknown, expired, stale links and forged
// forms get clear refusals and change nothing.
func TestPasswordResetLinkRefused(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", "old password")
		b := e.browser()
		wantStatus(t, b.post("/t/acme/password-reset", b.get("/t/acme/password-reset"), map[string]string{"email": u.Email}), http.StatusOK)
		link := e.mailLink(u.Email, "password_reset")
		page := b.get(target(t, link))
		wantStatus(t, page, http.StatusOK)
		token, _ := url.Parse(link)

		wantStatus(t, b.get("/t/acme/password-reset/new?token="+secure.Token()), http.StatusGone, "no longer valid")
		wantStatus(t, b.get("/t/acme/password-reset/new"), http.StatusGone)
		// A forged form: 403, nothing changes.
		res := b.do(http.MethodPost, "/t/acme/password-reset/new", url.Values{"csrf_token": {"x"}, "token": {token.Query().Get("token")}, "password": {"new password!"}})
		wantStatus(t, res, http.StatusForbidden)
		// Expired.
		e.clock.Advance(resetLinkTTL)
		wantStatus(t, b.get(target(t, link)), http.StatusGone, "no longer valid")
		res = b.post("/t/acme/password-reset/new", page, map[string]string{"token": token.Query().Get("token"), "password": "new password!"})
		wantStatus(t, res, http.StatusGone)
		got := e.getUser(u.ID)
		if ok, _ := password.Verify(got.PasswordHash, "old password"); !ok || got.EmailVerified || !got.SessionsNotBefore.IsZero() {
			t.Errorf("refused reset changed the user: %+v", got)
		}
		if e.hasAudit(auditPasswordReset) {
			t.Error("refused reset audited")
		}
	})
}
