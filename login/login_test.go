package login

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/login/ui"
)

func TestLoginFormPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(func(ar *storageAuthRequest) { ar.LoginHint = "ada@example.com" })
	b := e.browser()
	res := b.get("/t/acme/login?authRequestID=" + id)

	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d; want 200:\n%s", res.StatusCode, res.body)
	}
	for _, want := range []string{
		`<html lang="en">`,
		`<h1>Sign in to Acme CRM</h1>`,
		`<label for="email">Email</label>`,
		`<input id="email" name="email" type="email" autocomplete="email"`,
		`value="ada@example.com"`,
		`<label for="password">Password</label>`,
		`<input id="password" name="password" type="password" autocomplete="current-password"`,
		`<button type="submit" class="primary">Sign in</button>`,
		`href="signup?authRequestID=` + id + `"`,
		`name="authRequestID" value="` + id + `"`,
		`<link rel="stylesheet" href="/assets/style.css?v=`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "style=", " onclick", "javascript:"} {
		if strings.Contains(res.body, bad) {
			t.Errorf("page contains %q, which the CSP forbids", bad)
		}
	}
	assertPageHeaders(t, res, "https://crm.example")
	ck := b.cookies["orgid_csrf"]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("CSRF cookie = %+v; want orgid_csrf, HttpOnly, SameSite=Lax, Path=/", ck)
	}
	if ar := e.getAuthRequest(id); ar.Done || ar.Error != "" {
		t.Errorf("showing the form changed the auth request: %+v", ar)
	}
}

func assertPageHeaders(t *testing.T, res response, formTarget string) {
	t.Helper()
	csp := "default-src 'self'; img-src 'self' https:; frame-ancestors 'none'; form-action 'self'"
	if formTarget != "" {
		csp += " " + formTarget
	}
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"Content-Security-Policy": csp,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
}

func TestLoginWithoutAuthRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/t/acme/login", "/t/acme/signup", "/t/acme/login?authRequestID="} {
		res := e.browser().get(path)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "open the application you want to use") {
			t.Errorf("GET %s: status %d; want 400 with a start-from-your-application page:\n%s", path, res.StatusCode, res.body)
		}
		assertPageHeaders(t, res, "")
	}
}

func TestExpiredAuthRequest(t *testing.T) {
	t.Parallel()
	const msg = "This sign-in link has expired. Go back to the application and try again."
	e := newEnv(t)
	live := e.authRequest(nil)
	expiring := e.authRequest(nil)
	e.clock.Advance(61 * time.Minute) // past the one-hour TTL of both
	_ = live

	cases := []struct{ name, path string }{
		{"unknown", "/t/acme/login?authRequestID=ar_doesnotexist"},
		{"expired", "/t/acme/login?authRequestID=" + expiring},
		{"expired signup", "/t/acme/signup?authRequestID=" + expiring},
		{"other tenant", "/t/other/login?authRequestID=" + e.authRequest(nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := e.browser().get(c.path)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, msg) {
				t.Errorf("status %d; want 400 with %q:\n%s", res.StatusCode, msg, res.body)
			}
			if strings.Contains(res.body, "<form") {
				t.Error("expired link shows a form")
			}
		})
	}
}

func TestPostLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	before, _ := json.Marshal(e.getAuthRequest(id))

	b := e.browser()
	page := b.get("/t/acme/login?authRequestID=" + id)
	token := formToken(t, page.body)
	other := e.browser()
	otherToken := formToken(t, other.get("/t/acme/login?authRequestID="+id).body)

	creds := url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "authRequestID": {id}}
	with := func(token string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		if token != "" {
			v.Set("csrf_token", token)
		}
		return v
	}
	cases := []struct {
		name    string
		b       *browser
		form    url.Values
		dropCk  bool
		wantOut int
	}{
		{"no token", b, with(""), false, http.StatusForbidden},
		{"wrong token", b, with("AAAA" + token[4:]), false, http.StatusForbidden},
		{"token of another browser", b, with(otherToken), false, http.StatusForbidden},
		{"no cookie", b, with(token), true, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br := c.b
			if c.dropCk {
				br = e.browser()
			}
			res := br.do(http.MethodPost, "/t/acme/login?authRequestID="+id, c.form)
			if res.StatusCode != c.wantOut {
				t.Fatalf("status %d; want %d", res.StatusCode, c.wantOut)
			}
			if !strings.Contains(res.body, "This form has expired") {
				t.Errorf("403 page lacks its explanation:\n%s", res.body)
			}
			if ck := br.sessionCookie(); ck != nil {
				t.Errorf("session cookie set: %+v", ck)
			}
			after, _ := json.Marshal(e.getAuthRequest(id))
			if string(after) != string(before) {
				t.Errorf("auth request changed:\n%s\n%s", before, after)
			}
			if n := e.hits("login-account", "ada@example.com"); n != 0 {
				t.Errorf("failure counter = %d; want 0", n)
			}
		})
	}
}

func TestLoginWrongCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()

	wrong := b.login(id, "Ada@Example.com", "wrong password")
	unknown := b.login(id, "nobody@example.com", "wrong password")
	for name, res := range map[string]response{"wrong password": wrong, "unknown email": unknown} {
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d; want 200", name, res.StatusCode)
		}
		if !strings.Contains(res.body, `<p class="alert" id="form-error" role="alert">Email or password is incorrect.</p>`) {
			t.Errorf("%s: page lacks the one failure message:\n%s", name, res.body)
		}
		if strings.Contains(res.body, "wrong password") {
			t.Errorf("%s: the password was echoed back", name)
		}
		if !strings.Contains(res.body, `aria-describedby="form-error"`) {
			t.Errorf("%s: inputs are not tied to the error", name)
		}
	}
	if !strings.Contains(wrong.body, `value="Ada@Example.com"`) {
		t.Error("typed email not kept")
	}
	if msg := func(s string) string { i := strings.Index(s, `class="alert"`); return s[i : i+80] }; msg(wrong.body) != msg(unknown.body) {
		t.Error("unknown email and wrong password answered differently")
	}
	if n := e.hits("login-account", "ada@example.com"); n != 1 {
		t.Errorf("account counter = %d; want 1 (case-insensitive)", n)
	}
	if n := e.hits("login-account", "nobody@example.com"); n != 1 {
		t.Errorf("unknown-account counter = %d; want 1", n)
	}
	if n := e.hits("login-ip", testIP); n != 2 {
		t.Errorf("IP counter = %d; want 2", n)
	}
	if ar := e.getAuthRequest(id); ar.Done || ar.UserID != "" {
		t.Errorf("auth request completed after failures: %+v", ar)
	}
	if b.sessionCookie() != nil {
		t.Error("session cookie set after failures")
	}
}

func TestLoginMissingFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(nil)
	res := e.browser().submit("login", id, url.Values{"email": {"ada@example.com"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d; want 422", res.StatusCode)
	}
	if !strings.Contains(res.body, `<p class="field-error" id="password-error">Enter your password.</p>`) ||
		!strings.Contains(res.body, `aria-invalid="true" aria-describedby="password-error"`) {
		t.Errorf("password error not shown beside the field:\n%s", res.body)
	}
	if n := e.hits("login-ip", testIP); n != 0 {
		t.Errorf("an incomplete form counted as a failure: %d", n)
	}
}

func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()
	now := e.clock.Now()

	res := b.login(id, "ADA@example.com", "correct horse")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
		t.Fatalf("status %d, Location %q; want 303 to %q:\n%s", res.StatusCode, res.Header.Get("Location"), callback(id), res.body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("redirect is cacheable")
	}
	ck := b.sessionCookie()
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if ck.Name != "orgid_session_acme" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.MaxAge != int((7*24*time.Hour)/time.Second) {
		t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, MaxAge 7 days", ck)
	}
	ar := e.getAuthRequest(id)
	if !ar.Done || ar.UserID != u.ID || !ar.AuthTime.Equal(now) || !slices.Equal(ar.AMR, []string{"pwd"}) ||
		ar.ACR != "urn:orgid:acr:password" || ar.SessionID != ck.Value || ar.Error != "" {
		t.Errorf("auth request = %+v; want done by %s at %v with pwd", ar, u.ID, now)
	}
	sess, err := e.state.Session(t.Context(), testTenant, ck.Value)
	if err != nil || sess.UserID != u.ID || !sess.AuthTime.Equal(now) || !slices.Equal(sess.AMR, []string{"pwd"}) {
		t.Errorf("session = %+v, %v; want %s signed in at %v", sess, err, u.ID, now)
	}
	// The session lives for SessionTTL in the store too.
	e.clock.Advance(7*24*time.Hour - time.Second)
	if _, err := e.state.Session(t.Context(), testTenant, ck.Value); err != nil {
		t.Errorf("session gone before SessionTTL: %v", err)
	}
	if n := e.hits("login-account", "ada@example.com"); n != 0 {
		t.Errorf("success counted as failure: %d", n)
	}
}

func TestLoginNewSessionReplacesOld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ada@example.com", "correct horse")
	b := e.browser()
	first := b.login(e.authRequest(nil), "ada@example.com", "correct horse")
	old := b.sessionCookie().Value
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", first.StatusCode)
	}
	second := b.login(e.authRequest(func(ar *storageAuthRequest) { ar.MaxAge = ptr(int64(0)) }), "ada@example.com", "correct horse")
	if second.StatusCode != http.StatusSeeOther || b.sessionCookie().Value == old {
		t.Fatalf("second sign-in: status %d, same session ID %v; want 303 and a fresh ID", second.StatusCode, b.sessionCookie().Value == old)
	}
	if _, err := e.state.Session(t.Context(), testTenant, old); err == nil {
		t.Error("old session still valid after signing in again")
	}
}

func TestLoginSecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withExternalURL("https://id.example.com/auth/"))
	e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()
	page := b.get("/t/acme/login?authRequestID=" + id)
	if !strings.Contains(page.body, `href="/auth/assets/style.css?v=`) {
		t.Errorf("assets not under the external URL's path:\n%s", page.body)
	}
	if ck := b.cookies["__Host-orgid_csrf"]; ck == nil || !ck.Secure {
		t.Fatalf("CSRF cookie over https = %+v; want __Host-orgid_csrf, Secure", ck)
	}
	form := url.Values{"csrf_token": {formToken(t, page.body)}, "authRequestID": {id}, "email": {"ada@example.com"}, "password": {"correct horse"}}
	res := b.do(http.MethodPost, "/t/acme/login", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d; want 303:\n%s", res.StatusCode, res.body)
	}
	ck := b.cookies[httpx.SessionCookieName(testTenant, true)]
	if ck == nil || !ck.Secure || !ck.HttpOnly || !strings.HasPrefix(ck.Name, "__Host-") {
		t.Errorf("session cookie over https = %+v; want __Host-, Secure, HttpOnly", ck)
	}
}

func TestLoginRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()
	for i := range 10 {
		if res := b.login(id, "ada@example.com", "guess"+strconv.Itoa(i)); res.StatusCode != http.StatusOK {
			t.Fatalf("failure %d: status %d", i+1, res.StatusCode)
		}
		e.clock.Advance(time.Minute)
	}
	// The 11th attempt, 10 minutes into the 15-minute window, is refused
	// even with the right password, and not counted.
	res := b.login(id, "ada@example.com", "correct horse")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("11th attempt: status %d; want 429", res.StatusCode)
	}
	if got := res.Header.Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After = %q; want 300", got)
	}
	if !strings.Contains(res.body, "Too many failed sign-in attempts. Try again in 5 minutes.") {
		t.Errorf("429 page does not say so:\n%s", res.body)
	}
	if ar := e.getAuthRequest(id); ar.Done {
		t.Error("auth request completed while rate limited")
	}
	if n := e.hits("login-account", "ada@example.com"); n != 10 {
		t.Errorf("counter = %d; want 10", n)
	}
	// Another account from the same IP is not limited.
	e.user("bob@example.com", "bobs password")
	if res := e.browser().login(e.authRequest(nil), "bob@example.com", "bobs password"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("other account: status %d; want 303", res.StatusCode)
	}
	// Past the window, the right password works.
	e.clock.Advance(5*time.Minute + time.Second)
	if res := b.login(id, "ada@example.com", "correct horse"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: status %d; want 303:\n%s", res.StatusCode, res.body)
	}
	if ar := e.getAuthRequest(id); !ar.Done {
		t.Error("auth request not done after the window")
	}
}

func TestLoginRateLimitPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *Config) { c.MaxFailuresPerIP = 3 }))
	e.user("ada@example.com", "correct horse")
	id := e.authRequest(nil)
	b := e.browser()
	for i := range 3 {
		b.login(id, "user"+strconv.Itoa(i)+"@example.com", "spray")
	}
	res := b.login(id, "ada@example.com", "correct horse")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "900" {
		t.Fatalf("status %d, Retry-After %q; want 429, 900", res.StatusCode, res.Header.Get("Retry-After"))
	}
	other := e.browser()
	other.ip = "198.51.100.1"
	if res := other.login(id, "ada@example.com", "correct horse"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another IP: status %d; want 303", res.StatusCode)
	}
}

func TestLoginFormTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(nil)
	b := e.browser()
	token := formToken(t, b.get("/t/acme/login?authRequestID="+id).body)
	res := b.do(http.MethodPost, "/t/acme/login", url.Values{"csrf_token": {token}, "authRequestID": {id}, "email": {strings.Repeat("a", 70<<10)}})
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d; want 413", res.StatusCode)
	}
}

func TestLoginAlreadyFinished(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.authRequest(func(ar *storageAuthRequest) { ar.Error = "login_required" })
	res := e.browser().get("/t/acme/login?authRequestID=" + id)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != callback(id) {
		t.Errorf("status %d to %q; want 303 to the callback", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestStorageUnavailable(t *testing.T) {
	t.Parallel()
	var kv *failingKV
	e := newEnv(t, withKV(func(inner storageEphemeral) storageEphemeral {
		kv = &failingKV{Ephemeral: inner}
		return kv
	}))
	id := e.authRequest(nil)
	kv.setDown(true)
	res := e.browser().get("/t/acme/login?authRequestID=" + id)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.body, "temporarily unavailable") {
		t.Errorf("status %d; want 503 temporarily unavailable:\n%s", res.StatusCode, res.body)
	}
	if strings.Contains(res.body, "6379") || strings.Contains(res.body, "storage:") {
		t.Error("internal error detail reached the page")
	}
	kv.setDown(false)
	if res := e.browser().get("/t/acme/login?authRequestID=" + id); res.StatusCode != http.StatusOK {
		t.Errorf("after recovery: status %d; want 200", res.StatusCode)
	}
}

func TestLoggedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.browser().get("/t/acme/logged-out")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "You are signed out.") {
		t.Errorf("status %d; want 200 saying signed out:\n%s", res.StatusCode, res.body)
	}
	assertPageHeaders(t, res, "")
}

func TestAssets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.browser().get("/t/acme/logged-out").body
	for name, ctype := range map[string]string{"style.css": "text/css; charset=utf-8", "logo.svg": "image/svg+xml"} {
		res := e.browser().get("/assets/" + name)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ctype || res.body == "" {
			t.Errorf("%s: status %d, type %q; want 200 %s", name, res.StatusCode, res.Header.Get("Content-Type"), ctype)
		}
		_, v, _ := strings.Cut(ui.AssetURL("", name), "?v=")
		if !strings.Contains(page, "/assets/"+name+"?v="+v) {
			t.Errorf("page does not link %s at version %s", name, v)
		}
		if res := e.browser().get("/assets/" + name + "?v=" + v); !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: versioned asset not cached: %q", name, res.Header.Get("Cache-Control"))
		}
	}
	if res := e.browser().get("/assets/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: status %d; want 404", res.StatusCode)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := e.h.cfg
	cases := map[string]func(*Config){
		"no store":     func(c *Config) { c.Store = nil },
		"no state":     func(c *Config) { c.State.KV = nil },
		"no flow":      func(c *Config) { c.Flow = nil },
		"short key":    func(c *Config) { c.CSRFKey = []byte("short") },
		"relative url": func(c *Config) { c.ExternalURL = "/t" },
		"ftp url":      func(c *Config) { c.ExternalURL = "ftp://x" },
	}
	for name, mod := range cases {
		c := good
		mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
	c := good
	c.AuthRequestTTL, c.SessionTTL, c.MaxFailuresPerAccount, c.MaxFailuresPerIP, c.FailureWindow, c.Now, c.Logger = 0, 0, 0, 0, 0, nil, nil
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{h.cfg.AuthRequestTTL, h.cfg.SessionTTL, h.cfg.MaxFailuresPerAccount, h.cfg.MaxFailuresPerIP, h.cfg.FailureWindow}
	want := []any{30 * time.Minute, 7 * 24 * time.Hour, 10, 100, 15 * time.Minute}
	if !reflect.DeepEqual(got, want) || h.cfg.Now == nil || h.log == nil {
		t.Errorf("defaults = %v; want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
