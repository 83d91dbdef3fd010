package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPortalAccount: the account pages through the real server: signed
// in by the portal's own OIDC sign-in (which comes back to the account
// page), in the shell, with the password change that signs out another
// browser but keeps this one (the portal signs in again silently through
// the renewed session).
func TestPortalAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.logs.String())
			}
		})
		const email, pw = "ada@acme.test", "correct horse battery"
		ada := e.portalSignUp("default", email, "Ada Lovelace")

		// Without a session: 303 to the portal's sign-in, which comes back.
		other := e.portalBrowser("default", email)
		res, err := other.noFollow.Get(other.url("/account/security"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if want := "/t/default/portal/login?return_to=%2Ft%2Fdefault%2Faccount%2Fsecurity"; res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Fatalf("account page without a session: %d to %q; want 303 to %q", res.StatusCode, res.Header.Get("Location"), want)
		}
		page, body := other.get("/account/security")
		page, body = other.b.Submit(page, body, "Sign in", map[string]string{"email": email, "password": pw})
		if page.StatusCode != http.StatusOK || page.Request.URL.Path != "/t/default/account/security" || !strings.Contains(body, "Sign out other sessions") {
			t.Fatalf("after signing in: %d at %s; want the security page:\n%s", page.StatusCode, page.Request.URL, body)
		}

		// Profile in the shell: save the name.
		_, body = ada.get("/account")
		for _, want := range []string{`<body class="app">`, `aria-current="page">Profile</a>`, `href="/t/default/account/organizations"`} {
			if !strings.Contains(body, want) {
				t.Errorf("profile page lacks %q", want)
			}
		}
		posted, landed, body := ada.submit("/account", "Save name", url.Values{"name": {"Ada King"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/account" || !strings.Contains(body, "Name saved.") {
			t.Fatalf("save name: %d then %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		if u, err := e.srv.Store.GetUserByEmail(e.ctx, "default", email); err != nil || u.Name != "Ada King" {
			t.Errorf("name after saving: %+v, %v", u, err)
		}
		// The form without its CSRF token: 403.
		forged, _, _ := ada.post(landed.Request.URL, "/t/default/account/name", url.Values{"name": {"Mallory"}})
		if forged.StatusCode != http.StatusForbidden {
			t.Errorf("name form without CSRF token: %d; want 403", forged.StatusCode)
		}

		// Password change: the other browser is signed out, this one is not.
		e.advance(time.Second)
		posted, landed, body = ada.submit("/account/security", "Change password", url.Values{"current_password": {pw}, "new_password": {"another long password"}})
		if posted.StatusCode != http.StatusSeeOther || landed.Request.URL.Path != "/t/default/account/security" || !strings.Contains(body, "Password changed.") {
			t.Fatalf("change password: %d then %s:\n%s", posted.StatusCode, landed.Request.URL, body)
		}
		res, err = other.noFollow.Get(other.url("/account"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/t/default/portal/login?") {
			t.Errorf("the other browser after the change: %d to %q; want the sign-in", res.StatusCode, res.Header.Get("Location"))
		}
		if page, body := ada.get("/portal"); page.StatusCode != http.StatusOK || page.Request.URL.Path != "/t/default/portal" || !strings.Contains(body, "Ada King") {
			t.Errorf("this browser's portal after the change: %d at %s", page.StatusCode, page.Request.URL)
		}
	})
}
