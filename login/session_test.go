package login

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSingleSignOn covers GET /login with and without a session: reuse,
// forced re-authentication (prompt=login, max_age) and prompt=none.
func TestSingleSignOn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		signedIn   bool
		elapsed    time.Duration // between sign-in and the new request
		mod        func(*storageAuthRequest)
		wantForm   bool
		wantDone   bool
		wantErrStr string
	}{
		{name: "session reused", signedIn: true, elapsed: time.Hour, wantDone: true},
		{name: "prompt=login (max_age 0)", signedIn: true, elapsed: time.Minute, mod: func(ar *storageAuthRequest) { ar.MaxAge = ptr(int64(0)); ar.Prompt = []string{"login"} }, wantForm: true},
		{name: "max_age exceeded", signedIn: true, elapsed: 2 * time.Minute, mod: func(ar *storageAuthRequest) { ar.MaxAge = ptr(int64(60)) }, wantForm: true},
		{name: "max_age met", signedIn: true, elapsed: 2 * time.Minute, mod: func(ar *storageAuthRequest) { ar.MaxAge = ptr(int64(300)) }, wantDone: true},
		{name: "huge max_age", signedIn: true, elapsed: time.Hour, mod: func(ar *storageAuthRequest) { ar.MaxAge = ptr(int64(1) << 62) }, wantDone: true},
		{name: "prompt=none with session", signedIn: true, elapsed: time.Minute, mod: func(ar *storageAuthRequest) { ar.Prompt = []string{"none"} }, wantDone: true},
		{name: "prompt=none without session", mod: func(ar *storageAuthRequest) { ar.Prompt = []string{"none"} }, wantErrStr: "login_required"},
		{name: "prompt=none, max_age exceeded", signedIn: true, elapsed: 2 * time.Minute, mod: func(ar *storageAuthRequest) { ar.Prompt = []string{"none"}; ar.MaxAge = ptr(int64(60)) }, wantErrStr: "login_required"},
		{name: "session past SessionTTL", signedIn: true, elapsed: 8 * 24 * time.Hour, wantForm: true},
		{name: "no session", wantForm: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u := e.user("ada@example.com", "correct horse")
			b := e.browser()
			signedInAt := e.clock.Now()
			if c.signedIn {
				if res := b.login(e.authRequest(nil), "ada@example.com", "correct horse"); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("sign-in: status %d", res.StatusCode)
				}
			}
			e.clock.Advance(c.elapsed)
			id := e.authRequest(c.mod)
			res := b.get("/t/acme/login?authRequestID=" + id)
			ar := e.getAuthRequest(id)

			switch {
			case c.wantForm:
				if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `<button type="submit" class="primary">Sign in</button>`) {
					t.Errorf("status %d; want the sign-in form", res.StatusCode)
				}
				if ar.Done || ar.Error != "" {
					t.Errorf("auth request changed: %+v", ar)
				}
			case c.wantDone:
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
					t.Fatalf("status %d to %q; want 303 to the callback", res.StatusCode, res.Header.Get("Location"))
				}
				if !ar.Done || ar.UserID != u.ID || !ar.AuthTime.Equal(signedInAt) || !slices.Equal(ar.AMR, []string{"pwd"}) ||
					ar.SessionID != b.sessionCookie().Value || ar.ACR != "urn:orgid:acr:password" {
					t.Errorf("auth request = %+v; want done by the session's user, auth time %v", ar, signedInAt)
				}
			default:
				if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
					t.Fatalf("status %d to %q; want 303 to the callback", res.StatusCode, res.Header.Get("Location"))
				}
				if ar.Done || ar.Error != c.wantErrStr || ar.UserID != "" {
					t.Errorf("auth request = %+v; want failed with %s", ar, c.wantErrStr)
				}
			}
		})
	}
}

func TestSessionCookieForUnknownSessionIsCleared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.cookies["orgid_session_acme"] = &http.Cookie{Name: "orgid_session_acme", Value: "forged-or-expired"}
	res := b.get("/t/acme/login?authRequestID=" + e.authRequest(nil))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d; want the form", res.StatusCode)
	}
	if b.sessionCookie() != nil {
		t.Error("stale session cookie not cleared")
	}
}

func TestPromptCreateOpensSignup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(func(ar *storageAuthRequest) { ar.Prompt = []string{"create"} })
	res := e.browser().get("/t/acme/login?authRequestID=" + id)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://orgid.test/t/acme/signup?authRequestID="+id {
		t.Errorf("status %d to %q; want 303 to the sign-up form", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestMustReauthenticate(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		maxAge  *int64
		elapsed time.Duration
		want    bool
	}{
		{nil, 1000 * time.Hour, false},
		{ptr(int64(0)), 0, true},
		{ptr(int64(-5)), 0, true},
		{ptr(int64(60)), 60 * time.Second, false},
		{ptr(int64(60)), 61 * time.Second, true},
		{ptr(int64(1) << 62), 1000 * time.Hour, false},
	}
	for _, c := range cases {
		ar := &storageAuthRequest{MaxAge: c.maxAge}
		if got := mustReauthenticate(ar, now.Add(-c.elapsed), now); got != c.want {
			t.Errorf("max_age %v, elapsed %v: %v; want %v", c.maxAge, c.elapsed, got, c.want)
		}
	}
}
