package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/e2etest"
)

// portalUser is a person using the portal in their own browser (cookie jar).
type portalUser struct {
	t      testing.TB
	e      *env
	b      *e2etest.Browser
	tenant string
	email  string
	// noFollow is the same browser, stopping at every redirect.
	noFollow *http.Client
}

// portalSignUp signs a new person up through the portal's own sign-in:
// the portal redirects to the tenant's authorize endpoint, the login page
// offers Create an account, and the sign-up comes back to the portal.
func (e *env) portalSignUp(tenant, email, name string) *portalUser {
	e.t.Helper()
	u := e.portalBrowser(tenant, email)
	page, body := u.b.Get(u.url("/portal"))
	if page.StatusCode != http.StatusOK || !strings.Contains(body, "Create an account") {
		e.t.Fatalf("portal without a session: %d at %s, want the sign-in page:\n%s", page.StatusCode, page.Request.URL, body)
	}
	signup, _ := page.Request.URL.Parse(e2etest.LinkTo(e.t, body, "Create an account"))
	page, body = u.b.Get(signup.String())
	res, out := u.b.Submit(page, body, "Create account", map[string]string{"email": email, "password": "correct horse battery", "name": name})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/t/"+tenant+"/portal" {
		e.t.Fatalf("sign-up through the portal ended at %d %s; want 200 /t/%s/portal:\n%s", res.StatusCode, res.Request.URL, tenant, out)
	}
	return u
}

// portalSignIn signs an existing person in through the portal.
func (e *env) portalSignIn(tenant, email, password string) *portalUser {
	e.t.Helper()
	u := e.portalBrowser(tenant, email)
	page, body := u.b.Get(u.url("/portal"))
	res, out := u.b.Submit(page, body, "Sign in", map[string]string{"email": email, "password": password})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/t/"+tenant+"/portal" {
		e.t.Fatalf("sign-in through the portal ended at %d %s:\n%s", res.StatusCode, res.Request.URL, out)
	}
	return u
}

func (e *env) portalBrowser(tenant, email string) *portalUser {
	b := e2etest.NewBrowser(e.t)
	nf := *b.Client
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &portalUser{t: e.t, e: e, b: b, tenant: tenant, email: email, noFollow: &nf}
}

// url is the absolute URL of a tenant path ("/portal/o/acme/members").
func (u *portalUser) url(path string) string { return u.e.issuer(u.tenant) + path }

// get opens a tenant page, following redirects.
func (u *portalUser) get(path string) (*http.Response, string) {
	u.t.Helper()
	return u.b.Get(u.url(path))
}

// submit opens page, fills the form whose button says button with fields
// (a value per name; several for checkbox lists), posts it and returns the
// immediate answer (the redirect, unfollowed) and then the page it leads to.
func (u *portalUser) submit(page, button string, fields url.Values) (posted *http.Response, landed *http.Response, body string) {
	u.t.Helper()
	res, html := u.get(page)
	if res.StatusCode != http.StatusOK {
		u.t.Fatalf("GET %s: %d\n%s", page, res.StatusCode, html)
	}
	f := e2etest.FormWith(u.t, html, button)
	for k, vs := range fields {
		f.Values[k] = vs
	}
	return u.post(res.Request.URL, f.Action, f.Values)
}

// post posts values to action (resolved against from) without following
// the redirect, then follows it.
func (u *portalUser) post(from *url.URL, action string, values url.Values) (*http.Response, *http.Response, string) {
	u.t.Helper()
	target, err := from.Parse(action)
	if err != nil {
		u.t.Fatal(err)
	}
	posted, err := u.noFollow.PostForm(target.String(), values)
	if err != nil {
		u.t.Fatal(err)
	}
	io.Copy(io.Discard, posted.Body)
	posted.Body.Close()
	if posted.StatusCode != http.StatusSeeOther {
		return posted, posted, ""
	}
	next, err := target.Parse(posted.Header.Get("Location"))
	if err != nil {
		u.t.Fatal(err)
	}
	landed, body := u.b.Get(next.String())
	return posted, landed, body
}
