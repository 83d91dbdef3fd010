package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/internal/password"
)

// Tests of the signed-in account pages: profile (name, email change) and
// security (password, recovery codes, other sessions), in the shell.

const accountPW = "correct horse"

// wantRedirect asserts a 303 to location.
func wantRedirect(t *testing.T, res response, location string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != location {
		t.Fatalf("status %d to %q; want 303 to %q:\n%s", res.StatusCode, res.Header.Get("Location"), location, res.body)
	}
}

// wantSignInRedirect asserts the redirect of a page without a session to
// the portal's sign-in, which comes back to the page.
func wantSignInRedirect(t *testing.T, res response, page string) {
	t.Helper()
	wantRedirect(t, res, "/t/acme/portal/login?return_to="+url.QueryEscape(page))
}

func TestAccountWithoutSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.browser()
	for _, page := range []string{"/t/acme/account", "/t/acme/account/security", "/t/acme/account/security/recovery-codes"} {
		wantSignInRedirect(t, anon.get(page), page)
	}
	// A form without a session cannot be replayed after signing in: 401.
	page := e.browserPage(anon, "/t/acme/password-reset")
	for _, action := range []string{"/t/acme/account/name", "/t/acme/account/email", "/t/acme/account/security/password", "/t/acme/account/security/sessions"} {
		wantStatus(t, anon.post(action, page, map[string]string{"name": "Mallory"}), http.StatusUnauthorized, "Sign in first")
	}
}

// TestAccountShell: the account pages are in the shell layout with the
// account navigation; as a step of a sign-in, the security page keeps
// the card layout.
func TestAccountShell(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ada@example.com", accountPW)
	b := e.signedIn("ada@example.com", accountPW)
	res := b.get("/t/acme/account")
	wantStatus(t, res, http.StatusOK, `<body class="app">`, `<title>Profile · orgid</title>`,
		`<a href="/t/acme/account" aria-current="page">Profile</a>`,
		`<a href="/t/acme/account/security">Security</a>`,
		`<a href="/t/acme/account/organizations">Organizations</a>`,
		`<a href="/t/acme/account" aria-current="page">Account</a>`,
		`<label for="profile-name">Name</label>`, `<label for="new-email">Email</label>`,
		`<label for="email-password">Password</label>`,
		`<button type="submit" class="primary inline">Save name</button>`,
		`<button type="submit" class="primary inline">Change email</button>`,
		"Signed in as Ada · ada@example.com")
	assertPageHeaders(t, res, "")
	res = b.get("/t/acme/account/security")
	wantStatus(t, res, http.StatusOK, `<body class="app">`,
		`<a href="/t/acme/account/security" aria-current="page">Security</a>`,
		`<code id="totp-secret">`, `<label for="current-password">Current password</label>`,
		`<button type="submit" class="secondary">Sign out other sessions</button>`,
		`<dd id="session-started">2 Jan 2030 03:04 UTC</dd>`)
	id := e.authRequest(nil)
	res = b.get("/t/acme/account/security?authRequestID=" + id)
	wantStatus(t, res, http.StatusOK, `<div class="card">`, `<code id="totp-secret">`)
	if strings.Contains(res.body, `class="app"`) || strings.Contains(res.body, "Sign out other sessions") {
		t.Errorf("sign-in step rendered in the shell:\n%s", res.body)
	}
}

// TestAccountCSRF: every new form refuses a request without its token,
// and changes nothing.
func TestAccountCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("ada@example.com", accountPW)
	e.browserPage(e.browser(), "/t/acme/password-reset")
	b := e.signedIn(u.Email, accountPW)
	e.clock.Advance(time.Second)
	other := e.signedIn(u.Email, accountPW)
	for _, tc := range []struct {
		action string
		fields url.Values
	}{
		{"/t/acme/account/name", url.Values{"name": {"Mallory"}}},
		{"/t/acme/account/email", url.Values{"email": {"mallory@example.com"}, "current_password": {accountPW}}},
		{"/t/acme/account/email/cancel", url.Values{}},
		{"/t/acme/account/security/password", url.Values{"current_password": {accountPW}, "new_password": {"mallory's password"}}},
		{"/t/acme/account/security/recovery-codes", url.Values{"current_password": {accountPW}}},
		{"/t/acme/account/security/sessions", url.Values{}},
	} {
		for _, token := range []string{"", "forged"} {
			form := url.Values{"csrf_token": {token}}
			for k, v := range tc.fields {
				form[k] = v
			}
			wantStatus(t, b.do(http.MethodPost, tc.action, form), http.StatusForbidden, "Form expired")
		}
	}
	got := e.getUser(u.ID)
	if got.Name != "Ada" || got.Email != u.Email || got.PasswordHash != u.PasswordHash || e.mailCount() != 0 {
		t.Errorf("forged forms changed the user: %+v, %d mails", got, e.mailCount())
	}
	if other.session() == nil || b.session() == nil {
		t.Error("a forged form ended a session")
	}
}

func TestAccountName(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", accountPW)
		b := e.signedIn(u.Email, accountPW)
		page := e.browserPage(b, "/t/acme/account")

		res := b.post("/t/acme/account/name", page, map[string]string{"name": "Bad\x07Name"})
		wantStatus(t, res, http.StatusUnprocessableEntity,
			`<p class="field-error" id="profile-name-error">Name contains characters that cannot be used.</p>`,
			`aria-invalid="true" aria-describedby="profile-name-error"`)
		if got := e.getUser(u.ID); got.Name != "Ada" {
			t.Errorf("refused name stored: %q", got.Name)
		}

		res = b.post("/t/acme/account/name", page, map[string]string{"name": "  Ada Lovelace "})
		wantRedirect(t, res, "/t/acme/account?done=name-saved")
		if got := e.getUser(u.ID); got.Name != "Ada Lovelace" {
			t.Errorf("name = %q", got.Name)
		}
		wantStatus(t, b.get(res.Header.Get("Location")), http.StatusOK,
			`<p class="notice" role="status">Name saved.</p>`, `value="Ada Lovelace"`)
		if !e.hasAudit(auditProfileUpdate) {
			t.Errorf("audit %v lacks %s", e.auditActions(), auditProfileUpdate)
		}
	})
}

func TestAccountEmailChange(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", accountPW)
		e.user("taken@example.com", accountPW)
		b := e.signedIn(u.Email, accountPW)
		page := e.browserPage(b, "/t/acme/account")

		// Refusals: wrong or missing password, the same or a taken address.
		for _, tc := range []struct {
			email, pw string
			status    int
			want      string
		}{
			{"new@example.com", "wrong horse", http.StatusUnprocessableEntity, `<p class="field-error" id="email-password-error">That password is not right.</p>`},
			{"new@example.com", "", http.StatusUnprocessableEntity, `<p class="field-error" id="email-password-error">Enter your current password.</p>`},
			{"not an email", accountPW, http.StatusUnprocessableEntity, `<p class="field-error" id="new-email-error">Enter a valid email address`},
			{"ADA@example.com", accountPW, http.StatusUnprocessableEntity, `<p class="field-error" id="new-email-error">This is already your email.</p>`},
			{"taken@example.com", accountPW, http.StatusConflict, `<p class="field-error" id="new-email-error">An account with this email already exists.</p>`},
		} {
			res := b.post("/t/acme/account/email", page, map[string]string{"email": tc.email, "current_password": tc.pw})
			wantStatus(t, res, tc.status, tc.want)
		}
		if n := e.hits("login-account", "ada@example.com"); n != 1 {
			t.Errorf("failed password checks counted = %d; want 1 (the wrong password)", n)
		}
		if got := e.getUser(u.ID); got.Email != u.Email || e.mailCount() != 0 {
			t.Fatalf("refusals changed something: email %q, %d mails", got.Email, e.mailCount())
		}

		// A first request, then a second one that replaces it.
		wantRedirect(t, b.post("/t/acme/account/email", page, map[string]string{"email": "first@example.com", "current_password": accountPW}),
			"/t/acme/account?done=email-sent")
		first := e.mailLink("first@example.com", "verify_email")
		e.clock.Advance(2 * time.Minute) // past the per-minute limit
		res := b.post("/t/acme/account/email", page, map[string]string{"email": "New@Example.com", "current_password": accountPW})
		wantRedirect(t, res, "/t/acme/account?done=email-sent")
		wantStatus(t, b.get(res.Header.Get("Location")), http.StatusOK,
			"We sent a link to your new address", `<dd id="pending-email">pending: New@Example.com</dd>`,
			`<button type="submit" class="secondary">Cancel email change</button>`)
		link := e.mailLink("New@Example.com", "verify_email")
		if !strings.HasPrefix(link, "http://orgid.test/t/acme/account/email/confirm?token=") {
			t.Fatalf("link %q", link)
		}
		if got := e.getUser(u.ID); got.Email != u.Email {
			t.Fatalf("email changed before the link: %q", got.Email)
		}
		wantStatus(t, e.browser().get(target(t, first)), http.StatusGone, "Link no longer valid")

		// The link, in the signed-in browser: the email changes, verified.
		res = b.get(target(t, link))
		wantRedirect(t, res, "/t/acme/account?done=email-changed")
		got := e.getUser(u.ID)
		if got.Email != "New@Example.com" || !got.EmailVerified {
			t.Fatalf("after the link: %q verified %v", got.Email, got.EmailVerified)
		}
		page = b.get(res.Header.Get("Location"))
		wantStatus(t, page, http.StatusOK, "Your email address is changed.", `<dd id="current-email">New@Example.com`)
		if strings.Contains(page.body, "pending:") {
			t.Error("still pending after the change")
		}
		if !e.hasAudit(auditEmailChange) {
			t.Errorf("audit %v lacks %s", e.auditActions(), auditEmailChange)
		}
		wantStatus(t, e.browser().get(target(t, link)), http.StatusGone, "Link no longer valid")

		// The old address no longer signs in; the new one does.
		wantStatus(t, e.browser().login(e.authRequest(nil), "ada@example.com", accountPW), http.StatusOK, msgBadCredentials)
		if res := e.browser().login(e.authRequest(nil), "new@example.com", accountPW); res.StatusCode != http.StatusSeeOther {
			t.Errorf("new address: %d", res.StatusCode)
		}
	})
}

// TestAccountEmailCancel: Cancel ends the pending change; its link is dead.
func TestAccountEmailCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("ada@example.com", accountPW)
	b := e.signedIn(u.Email, accountPW)
	page := e.browserPage(b, "/t/acme/account")
	wantRedirect(t, b.post("/t/acme/account/email", page, map[string]string{"email": "new@example.com", "current_password": accountPW}),
		"/t/acme/account?done=email-sent")
	link := e.mailLink("new@example.com", "verify_email")
	wantRedirect(t, b.post("/t/acme/account/email/cancel", page, nil), "/t/acme/account?done=email-cancelled")
	if body := b.get("/t/acme/account").body; strings.Contains(body, "pending:") {
		t.Error("still pending after Cancel")
	}
	wantStatus(t, e.browser().get(target(t, link)), http.StatusGone, "Link no longer valid")
	if got := e.getUser(u.ID); got.Email != u.Email {
		t.Errorf("email = %q after a cancelled change", got.Email)
	}
}

func TestAccountPasswordChange(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		u := e.user("ada@example.com", accountPW)
		other := e.signedIn(u.Email, accountPW)
		e.clock.Advance(time.Minute)
		b := e.signedIn(u.Email, accountPW)
		page := e.browserPage(b, "/t/acme/account/security")
		e.clock.Advance(time.Minute)

		res := b.post("/t/acme/account/security/password", page, map[string]string{"current_password": "wrong horse", "new_password": "a new long password"})
		wantStatus(t, res, http.StatusUnprocessableEntity,
			`<p class="field-error" id="current-password-error">That password is not right.</p>`)
		res = b.post("/t/acme/account/security/password", page, map[string]string{"current_password": accountPW, "new_password": "short"})
		wantStatus(t, res, http.StatusUnprocessableEntity,
			`<p class="field-error" id="new-password-error">Password must be at least 8 characters.</p>`)
		if got := e.getUser(u.ID); got.PasswordHash != u.PasswordHash || !got.SessionsNotBefore.IsZero() {
			t.Fatal("a refused change changed the password or ended sessions")
		}
		if other.session() == nil {
			t.Fatal("a refused change ended the other session")
		}

		oldSID := b.sessionCookie().Value
		res = b.post("/t/acme/account/security/password", page, map[string]string{"current_password": accountPW, "new_password": "a new long password"})
		wantRedirect(t, res, "/t/acme/account/security?done=password-changed")
		if b.sessionCookie() == nil || b.sessionCookie().Value == oldSID {
			t.Error("this browser did not get a fresh session")
		}
		wantStatus(t, b.get(res.Header.Get("Location")), http.StatusOK,
			`<p class="notice" role="status">Password changed. Your other sessions are signed out.</p>`)
		wantSignInRedirect(t, other.get("/t/acme/account"), "/t/acme/account")
		if got := e.getUser(u.ID); got.PasswordHash == u.PasswordHash {
			t.Error("password hash unchanged")
		} else if ok, _ := password.Verify(got.PasswordHash, "a new long password"); !ok {
			t.Error("the new password does not verify")
		}
		if !e.hasAudit(auditPasswordChange) {
			t.Errorf("audit %v lacks %s", e.auditActions(), auditPasswordChange)
		}
		wantStatus(t, e.browser().login(e.authRequest(nil), u.Email, accountPW), http.StatusOK, msgBadCredentials)
		if res := e.browser().login(e.authRequest(nil), u.Email, "a new long password"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("new password: %d", res.StatusCode)
		}
	})
}

func TestAccountSignOutOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("ada@example.com", accountPW)
	other := e.signedIn(u.Email, accountPW)
	e.clock.Advance(time.Minute)
	b := e.signedIn(u.Email, accountPW)
	page := e.browserPage(b, "/t/acme/account/security")
	before := b.session()
	e.clock.Advance(time.Minute)

	res := b.post("/t/acme/account/security/sessions", page, nil)
	wantRedirect(t, res, "/t/acme/account/security?done=others-signed-out")
	wantStatus(t, b.get(res.Header.Get("Location")), http.StatusOK,
		`<p class="notice" role="status">Your other sessions are signed out.</p>`)
	wantSignInRedirect(t, other.get("/t/acme/account/security"), "/t/acme/account/security")
	after := b.session()
	if after == nil || !after.AuthTime.Equal(before.AuthTime) || !after.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("this browser's session after: %+v; want the same sign-in, created now", after)
	}
	if !e.hasAudit(auditSessionsEnd) {
		t.Errorf("audit %v lacks %s", e.auditActions(), auditSessionsEnd)
	}
}

var recoveryCodesRE = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)

func TestAccountRecoveryCodes(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, opts ...envOption) {
		e := newEnv(t, opts...)
		ctx := context.Background()
		u := e.user("ada@example.com", accountPW)
		b := e.signedIn(u.Email, accountPW)
		secret := e.enrolTOTP(u)
		enrolled, err := e.store.GetTOTP(ctx, testTenant, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		page := e.browserPage(b, "/t/acme/account/security")
		wantStatus(t, page, http.StatusOK, `<label for="recovery-code">Verification code</label>`,
			`<button type="submit" class="secondary">Create new recovery codes</button>`)

		code, err := mfa.Code(secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		// A wrong code: refused, nothing replaced.
		res := b.post("/t/acme/account/security/recovery-codes", page, map[string]string{"code": wrongTOTP(code)})
		wantStatus(t, res, http.StatusUnprocessableEntity, `<p class="field-error" id="recovery-code-error">That code is not right.`)

		regenerate := func(fields map[string]string) []string {
			t.Helper()
			res := b.post("/t/acme/account/security/recovery-codes", page, fields)
			loc := res.Header.Get("Location")
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/t/acme/account/security/recovery-codes?reveal=") ||
				!strings.HasSuffix(loc, "&done=recovery-codes-new") {
				t.Fatalf("regenerate: %d to %q:\n%s", res.StatusCode, loc, res.body)
			}
			shown := b.get(loc)
			wantStatus(t, shown, http.StatusOK, "New recovery codes created.", `<ul class="recovery-codes" id="recovery-codes">`)
			var codes []string
			for _, m := range recoveryCodesRE.FindAllStringSubmatch(shown.body, -1) {
				codes = append(codes, m[1])
			}
			if len(codes) != 10 {
				t.Fatalf("codes shown = %v; want 10", codes)
			}
			// Shown once: a reload leads back to the security page.
			wantRedirect(t, b.get(loc), "http://orgid.test/t/acme/account/security")
			return codes
		}
		first := regenerate(map[string]string{"code": code})
		// The code that confirmed it is spent, and the factor still works.
		if err := e.h.checkTOTP(ctx, testTenant, u.ID, code); !errors.Is(err, errBadCode) {
			t.Errorf("the confirming code again: %v; want errBadCode", err)
		}
		e.clock.Advance(30 * time.Second)
		second := regenerate(map[string]string{"current_password": accountPW})
		if n, _ := e.store.CountRecoveryCodes(ctx, testTenant, u.ID); n != 10 {
			t.Errorf("unused codes = %d; want 10", n)
		}
		if err := e.h.checkRecoveryCode(ctx, testTenant, u.ID, first[0]); !errors.Is(err, errBadCode) {
			t.Errorf("an old code: %v; want errBadCode", err)
		}
		if err := e.h.checkRecoveryCode(ctx, testTenant, u.ID, second[0]); err != nil {
			t.Errorf("a new code: %v", err)
		}
		e.clock.Advance(30 * time.Second)
		next, _ := mfa.Code(secret, e.clock.Now())
		if err := e.h.checkTOTP(ctx, testTenant, u.ID, next); err != nil {
			t.Errorf("the factor after regeneration: %v", err)
		}
		if f, err := e.store.GetTOTP(ctx, testTenant, u.ID); err != nil || !f.ConfirmedAt.Equal(enrolled.ConfirmedAt) || !f.CreatedAt.Equal(enrolled.CreatedAt) {
			t.Errorf("factor after regeneration: %+v, %v", f, err)
		}
		if !e.hasAudit(auditRecoveryCodes) {
			t.Errorf("audit %v lacks %s", e.auditActions(), auditRecoveryCodes)
		}
		// The password refused: 422, the codes stay.
		res = b.post("/t/acme/account/security/recovery-codes", page, map[string]string{"current_password": "wrong horse"})
		wantStatus(t, res, http.StatusUnprocessableEntity, `<p class="field-error" id="recovery-password-error">That password is not right.</p>`)
		if err := e.h.checkRecoveryCode(ctx, testTenant, u.ID, second[1]); err != nil {
			t.Errorf("a new code after a refused regeneration: %v", err)
		}
	})
}

func wrongTOTP(code string) string {
	if code[0] == '0' {
		return "1" + code[1:]
	}
	return "0" + code[1:]
}
