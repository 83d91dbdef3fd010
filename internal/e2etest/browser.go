package e2etest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// Callback is the redirect URI of test clients. Nothing listens there: the
// browser stops at the redirect and the test reads the URL.
const Callback = "http://127.0.0.1:9/cb"

// Browser is a user agent with cookies that follows redirects inside orgid
// and stops at the redirect to the client.
type Browser struct {
	t      T
	Client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t T) *Browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: Record(nil), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), Callback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &Browser{t: t, Client: c}
}

// Get follows redirects inside orgid and returns the last response (the
// redirect to the client, or a page) and its body.
func (b *Browser) Get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.Client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// Submit fills the page's form whose submit button says button, sets
// fields, and posts it.
func (b *Browser) Submit(page *http.Response, body, button string, fields map[string]string) (*http.Response, string) {
	b.t.Helper()
	action, values := FindForm(b.t, body, button)
	for k, v := range fields {
		values.Set(k, v)
	}
	target, err := page.Request.URL.Parse(action)
	if err != nil {
		b.t.Fatal(err)
	}
	resp, err := b.Client.PostForm(target.String(), values)
	if err != nil {
		b.t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(out)
}

// SignUp drives the sign-up form from an authorization URL and returns the
// redirect to the client.
func (b *Browser) SignUp(authURL, email, password, name string) *http.Response {
	b.t.Helper()
	page, body := b.Get(authURL)
	if page.StatusCode != http.StatusOK {
		b.t.Fatalf("login page: %d\n%s", page.StatusCode, body)
	}
	signup, err := page.Request.URL.Parse(LinkTo(b.t, body, "Create an account"))
	if err != nil {
		b.t.Fatal(err)
	}
	page, body = b.Get(signup.String())
	resp, out := b.Submit(page, body, "Create account", map[string]string{"email": email, "password": password, "name": name})
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("sign-up answered %d:\n%s", resp.StatusCode, out)
	}
	return resp
}

// SignIn drives the sign-in form from an authorization URL and returns the
// redirect to the client.
func (b *Browser) SignIn(authURL, email, password string) *http.Response {
	b.t.Helper()
	page, body := b.Get(authURL)
	if page.StatusCode != http.StatusOK {
		b.t.Fatalf("login page: %d\n%s", page.StatusCode, body)
	}
	resp, out := b.Submit(page, body, "Sign in", map[string]string{"email": email, "password": password})
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("sign-in answered %d:\n%s", resp.StatusCode, out)
	}
	return resp
}

// RedirectParams returns the query of a redirect to the client's callback.
func RedirectParams(t T, resp *http.Response) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, Callback) {
		t.Fatalf("expected a redirect to the client, got %d %q", resp.StatusCode, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
