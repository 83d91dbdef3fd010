package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/mfa"
	"github.com/orgid/orgid/storage"
)

const acrMFAValue = "urn:orgid:acr:mfa"

// mfaRP is a relying party with the pages' browser helpers for the
// second factor.
type mfaRP struct {
	e  *env
	rp *e2etest.RP
}

func newMFARP(t testing.TB, e *env) *mfaRP {
	clientID, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	return &mfaRP{e: e, rp: e.rp(storage.DefaultTenant, clientID, secret)}
}

// authURL is an authorization URL with PKCE; mfa adds acr_values.
func (m *mfaRP) authURL(verifier string, forceMFA bool) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce")}
	if forceMFA {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", acrMFAValue))
	}
	return m.rp.Config.AuthCodeURL("st4te", opts...)
}

// tokens exchanges the code of a redirect to the client and returns the
// verified ID token's amr and acr and the access token's claims.
func (m *mfaRP) tokens(t testing.TB, resp *http.Response, verifier string) ([]string, string, map[string]any) {
	t.Helper()
	q := e2etest.RedirectParams(t, resp)
	if q.Get("code") == "" {
		t.Fatalf("no code in the callback: %v", q)
	}
	tok, err := m.rp.Config.Exchange(m.rp.Ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt := m.rp.VerifyIDToken(raw)
	var c struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	_, at := e2etest.DecodeJWT(t, tok.AccessToken)
	return c.AMR, c.ACR, at
}

// password opens the sign-in form and gives the password; it returns the
// page that follows (the code page for a user with a factor).
func (m *mfaRP) password(t testing.TB, br *e2etest.Browser, authURL, email, pw string) (*http.Response, string) {
	t.Helper()
	page, body := br.Get(authURL)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d\n%s", page.StatusCode, body)
	}
	return br.Submit(page, body, "Sign in", map[string]string{"email": email, "password": pw})
}

// wantCodePage checks that the browser is on the second step of sign-in.
func wantCodePage(t testing.TB, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/mfa") ||
		!strings.Contains(body, `<label for="code">Verification code</label>`) || !strings.Contains(body, ">Verify</button>") {
		t.Fatalf("want the verification code page, got %d %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}

// enrol drives the security page of the signed-in browser: reads the
// secret, checks the QR code is served, confirms the current code, and
// returns the secret, the recovery codes and the page's Continue link.
func (m *mfaRP) enrol(t testing.TB, br *e2etest.Browser, page *http.Response, body string) (string, []string, string) {
	t.Helper()
	if page.StatusCode != http.StatusOK || !strings.Contains(body, `<label for="code">Verification code</label>`) {
		t.Fatalf("security page: %d\n%s", page.StatusCode, body)
	}
	secret := e2etest.ElementText(t, body, "totp-secret")
	imgs := e2etest.ImageSources(t, body)
	var qr string
	for _, src := range imgs {
		if strings.HasSuffix(src, "totp.png") {
			qr = src
		}
	}
	if qr == "" {
		t.Fatalf("no QR code image among %v", imgs)
	}
	qrURL, _ := page.Request.URL.Parse(qr)
	img, png := br.Get(qrURL.String())
	if img.StatusCode != http.StatusOK || img.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(png, "\x89PNG") {
		t.Fatalf("QR code: %d %s", img.StatusCode, img.Header.Get("Content-Type"))
	}
	code, err := mfa.Code(secret, m.e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A wrong code first: refused, enrolment still pending.
	resp, out := br.Submit(page, body, "Verify", map[string]string{"code": wrongCode(code)})
	if resp.StatusCode != http.StatusUnprocessableEntity || e2etest.ElementText(t, out, "totp-secret") != secret {
		t.Fatalf("wrong enrolment code: %d\n%s", resp.StatusCode, out)
	}
	resp, out = br.Submit(page, body, "Verify", map[string]string{"code": code})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm enrolment: %d\n%s", resp.StatusCode, out)
	}
	codes := e2etest.ListItems(t, out, "recovery-codes")
	if len(codes) != 10 {
		t.Fatalf("recovery codes = %v", codes)
	}
	return secret, codes, e2etest.LinkTo(t, out, "Continue")
}

func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func (m *mfaRP) code(t testing.TB, secret string) string {
	t.Helper()
	c, err := mfa.Code(secret, m.e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantMFATokens(t testing.TB, amr []string, acr string, at map[string]any, wantAMR ...string) {
	t.Helper()
	if !slices.Equal(amr, wantAMR) || acr != acrMFAValue {
		t.Errorf("ID token amr = %v, acr = %q; want %v, %s", amr, acr, wantAMR, acrMFAValue)
	}
	var atAMR []string
	for _, v := range at["amr"].([]any) {
		atAMR = append(atAMR, v.(string))
	}
	if !slices.Equal(atAMR, wantAMR) || at["acr"] != acrMFAValue {
		t.Errorf("access token amr = %v, acr = %v; want %v, %s", at["amr"], at["acr"], wantAMR, acrMFAValue)
	}
}

// wantSelfAudit checks the audit log (GET /admin/audit-log) for userID's
// own changes to their factor, in order: actor and target are the user.
func wantSelfAudit(t testing.TB, e *env, userID string, actions ...string) {
	t.Helper()
	admin, _ := e.admin(t, storage.DefaultTenant)
	var got []string
	for _, en := range admin.all(t, "/admin/audit-log", "id") {
		if en["actor"] == userID {
			if en["target"] != userID {
				t.Errorf("audit entry of the user's own change: %v", en)
			}
			got = append(got, en["action"].(string))
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(actions))
	if !slices.Equal(got, want) {
		t.Errorf("audit actions by the user = %v; want %v", got, want)
	}
}

// TestMFAPages enrols TOTP through the account page and signs in with it:
// the code page after the password, tokens with amr otp and acr mfa, a
// replayed code refused, recovery codes once each, wrong codes under the
// sign-in failure limit, and removal with a code.
func TestMFAPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		m := newMFARP(t, e)
		const email, pw = "ada@example.test", "correct horse battery"

		// Sign up, then enrol on the security page of that session.
		br := e.browser()
		v := oauth2.GenerateVerifier()
		amr, acr, _ := m.tokens(t, br.SignUp(m.authURL(v, false), email, pw, "Ada"), v)
		if !slices.Equal(amr, []string{"pwd"}) || acr != "urn:orgid:acr:password" {
			t.Fatalf("password sign-in: amr %v acr %q", amr, acr)
		}
		page, body := br.Get(e.issuer(storage.DefaultTenant) + "/account/security")
		secret, recovery, _ := m.enrol(t, br, page, body)
		user, err := e.srv.Store.GetUserByEmail(e.ctx, storage.DefaultTenant, email)
		if err != nil || !user.MFAEnabled {
			t.Fatalf("after enrolment: %+v, %v", user, err)
		}
		f, err := e.srv.Store.GetTOTP(e.ctx, storage.DefaultTenant, user.ID)
		if err != nil || strings.Contains(string(f.SecretSealed), secret) {
			t.Fatalf("stored factor: %v (secret must be sealed)", err)
		}
		wantSelfAudit(t, e, user.ID, "user.mfa_enrol")
		page, body = br.Get(e.issuer(storage.DefaultTenant) + "/account/security")
		if strings.Contains(body, "totp-secret") || !strings.Contains(body, "10 unused recovery codes") {
			t.Fatalf("security page after enrolment:\n%s", body)
		}

		// The code of the enrolment's step is spent: sign in one step later.
		e.advance(30 * time.Second)
		code := m.code(t, secret)
		v = oauth2.GenerateVerifier()
		br2 := e.browser()
		page, body = m.password(t, br2, m.authURL(v, false), email, pw)
		wantCodePage(t, page, body)
		// The code page is not a session: single sign-on does not work yet.
		resp, _ := br2.Get(m.authURL(oauth2.GenerateVerifier(), false))
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.Path, "/login") {
			t.Fatalf("before the code, a new request shows %s (%d)", resp.Request.URL, resp.StatusCode)
		}
		resp, out := br2.Submit(page, body, "Verify", map[string]string{"code": code})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("code page answered %d:\n%s", resp.StatusCode, out)
		}
		amr, acr, at := m.tokens(t, resp, v)
		wantMFATokens(t, amr, acr, at, "pwd", "otp", "mfa")

		// The same code again, in another sign-in: a replay.
		br3 := e.browser()
		page, body = m.password(t, br3, m.authURL(oauth2.GenerateVerifier(), false), email, pw)
		wantCodePage(t, page, body)
		resp, out = br3.Submit(page, body, "Verify", map[string]string{"code": code})
		if resp.StatusCode != http.StatusOK || !strings.Contains(out, "That code is not right") {
			t.Fatalf("replayed code: %d\n%s", resp.StatusCode, out)
		}

		// Recovery codes: each works once, and signs in with amr pwd mfa.
		v = oauth2.GenerateVerifier()
		br4 := e.browser()
		page, body = m.password(t, br4, m.authURL(v, false), email, pw)
		wantCodePage(t, page, body)
		link, _ := page.Request.URL.Parse(e2etest.LinkTo(t, body, "Use a recovery code"))
		page, body = br4.Get(link.String())
		resp, out = br4.Submit(page, body, "Verify", map[string]string{"code": strings.ToUpper(recovery[0])})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("recovery code answered %d:\n%s", resp.StatusCode, out)
		}
		amr, acr, at = m.tokens(t, resp, v)
		wantMFATokens(t, amr, acr, at, "pwd", "mfa")
		br5 := e.browser()
		page, body = m.password(t, br5, m.authURL(oauth2.GenerateVerifier(), false), email, pw)
		link, _ = page.Request.URL.Parse(e2etest.LinkTo(t, body, "Use a recovery code"))
		page, body = br5.Get(link.String())
		resp, out = br5.Submit(page, body, "Verify", map[string]string{"code": recovery[0]})
		if resp.StatusCode != http.StatusOK || !strings.Contains(out, "has been used already") {
			t.Fatalf("used recovery code: %d\n%s", resp.StatusCode, out)
		}
		if n, _ := e.srv.Store.CountRecoveryCodes(e.ctx, storage.DefaultTenant, user.ID); n != 9 {
			t.Errorf("recovery codes left = %d; want 9", n)
		}

		// Wrong codes count toward the per-account limit (10 per window by
		// default; the replay and the used recovery code were two).
		br6 := e.browser()
		page, body = m.password(t, br6, m.authURL(oauth2.GenerateVerifier(), false), email, pw)
		wantCodePage(t, page, body)
		bad := wrongCode(m.code(t, secret))
		for i := 2; i < 10; i++ {
			resp, out = br6.Submit(page, body, "Verify", map[string]string{"code": bad})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("wrong code %d: %d\n%s", i+1, resp.StatusCode, out)
			}
		}
		resp, out = br6.Submit(page, body, "Verify", map[string]string{"code": m.code(t, secret)})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("after 10 failures even the right code: %d Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), out)
		}
		// The password form is blocked too: one limit for both factors.
		if resp, out = m.password(t, e.browser(), m.authURL(oauth2.GenerateVerifier(), false), email, pw); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("password after 10 code failures: %d\n%s", resp.StatusCode, out)
		}
		e.advance(16 * time.Minute)

		// Removing the factor needs a current code.
		page, body = br.Get(e.issuer(storage.DefaultTenant) + "/account/security")
		resp, out = br.Submit(page, body, "Turn off two-step verification", map[string]string{"code": wrongCode(m.code(t, secret))})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("remove with a wrong code: %d\n%s", resp.StatusCode, out)
		}
		resp, out = br.Submit(page, body, "Turn off two-step verification", map[string]string{"code": recovery[1]})
		if resp.StatusCode != http.StatusOK || !strings.Contains(out, "Two-step verification is off") {
			t.Fatalf("remove with a recovery code: %d\n%s", resp.StatusCode, out)
		}
		if user, _ := e.srv.Store.GetUser(e.ctx, storage.DefaultTenant, user.ID); user.MFAEnabled {
			t.Error("MFA still enabled after removal")
		}
		wantSelfAudit(t, e, user.ID, "user.mfa_enrol", "user.mfa_remove")
		v = oauth2.GenerateVerifier()
		amr, _, _ = m.tokens(t, e.browser().SignIn(m.authURL(v, false), email, pw), v)
		if !slices.Equal(amr, []string{"pwd"}) {
			t.Errorf("after removal amr = %v", amr)
		}
	})
}

// TestMFAStepUp: acr_values=urn:orgid:acr:mfa makes a password-only
// session give the second factor, and sends a user without one through
// enrolment before the sign-in completes.
func TestMFAStepUp(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		m := newMFARP(t, e)
		const email, pw = "bob@example.test", "correct horse battery"

		// Browser A keeps a password-only session; B enrols.
		brA := e.browser()
		v := oauth2.GenerateVerifier()
		m.tokens(t, brA.SignUp(m.authURL(v, false), email, pw, "Bob"), v)
		brB := e.browser()
		v = oauth2.GenerateVerifier()
		m.tokens(t, brB.SignIn(m.authURL(v, false), email, pw), v)
		page, body := brB.Get(e.issuer(storage.DefaultTenant) + "/account/security")
		secret, _, _ := m.enrol(t, brB, page, body)
		e.advance(30 * time.Second)

		// Without acr_values, A's session still signs in (single sign-on).
		v = oauth2.GenerateVerifier()
		resp, out := brA.Get(m.authURL(v, false))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("single sign-on: %d\n%s", resp.StatusCode, out)
		}
		if amr, _, _ := m.tokens(t, resp, v); !slices.Equal(amr, []string{"pwd"}) {
			t.Errorf("single sign-on amr = %v", amr)
		}
		// prompt=none cannot ask for the code.
		resp, _ = brA.Get(m.authURL(oauth2.GenerateVerifier(), true) + "&prompt=none")
		if q := e2etest.RedirectParams(t, resp); q.Get("error") != "interaction_required" {
			t.Errorf("prompt=none with acr_values: %v", q)
		}
		// With acr_values, A is asked for the code and gets an MFA sign-in.
		v = oauth2.GenerateVerifier()
		page, body = brA.Get(m.authURL(v, true))
		wantCodePage(t, page, body)
		// Every form carries the CSRF token: without it, nothing is checked.
		resp, _ = brA.Submit(page, body, "Verify", map[string]string{"code": m.code(t, secret), "csrf_token": ""})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("code without CSRF token: %d", resp.StatusCode)
		}
		resp, out = brA.Submit(page, body, "Verify", map[string]string{"code": m.code(t, secret)})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("step-up code: %d\n%s", resp.StatusCode, out)
		}
		amr, acr, at := m.tokens(t, resp, v)
		wantMFATokens(t, amr, acr, at, "pwd", "otp", "mfa")
		// The session now carries the factor: the next request needs no code.
		v = oauth2.GenerateVerifier()
		resp, out = brA.Get(m.authURL(v, true))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("after step-up: %d\n%s", resp.StatusCode, out)
		}
		amr, acr, at = m.tokens(t, resp, v)
		wantMFATokens(t, amr, acr, at, "pwd", "otp", "mfa")

		// A user without a factor is enrolled first, then signed in.
		v = oauth2.GenerateVerifier()
		brC := e.browser()
		page, body = brC.Get(m.authURL(v, true))
		link, _ := page.Request.URL.Parse(e2etest.LinkTo(t, body, "Create an account"))
		page, body = brC.Get(link.String())
		page, body = brC.Submit(page, body, "Create account", map[string]string{"email": "carol@example.test", "password": pw, "name": "Carol"})
		if !strings.HasSuffix(page.Request.URL.Path, "/account/security") {
			t.Fatalf("new user with acr_values landed on %s:\n%s", page.Request.URL, body)
		}
		_, _, next := m.enrol(t, brC, page, body)
		resp, out = brC.Get(next)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("continue after enrolment: %d\n%s", resp.StatusCode, out)
		}
		amr, acr, at = m.tokens(t, resp, v)
		wantMFATokens(t, amr, acr, at, "pwd", "otp", "mfa")
	})
}
