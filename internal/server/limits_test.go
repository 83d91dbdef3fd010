package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// serveLimited serves h on a loopback listener through server.NewHTTPServer
// with cfg, and returns the listener's address.
func serveLimited(t *testing.T, h http.Handler, cfg config.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := server.NewHTTPServer(h, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
	t.Cleanup(func() {
		hs.Close()
		<-done
	})
	return ln.Addr().String()
}

// TestSlowHeadersCutOff: a client that never finishes its headers
// (slowloris) loses its connection once ReadHeaderTimeout has passed,
// however steadily it trickles bytes, and never reaches a handler.
func TestSlowHeadersCutOff(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:1")
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	var reached atomic.Bool
	addr := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }), cfg)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
		t.Fatal(err)
	}
	// Trickle one header byte every 20 ms, never the blank line that ends
	// the headers, until the server hangs up (a write fails) or the
	// generous bound is reached.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("X")); err != nil {
					return
				}
			}
		}
	}()
	// The generous upper bound: fifty times the timeout.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after 10 s of trickled headers (read %q)", got)
	}
	// The server closed the connection (ReadAll returned), silently or
	// after a 408 or 400 of its own: either way the client is cut off.
	if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 408") && !strings.HasPrefix(string(got), "HTTP/1.1 400") {
		t.Fatalf("server answered %q, want the connection closed, 408 or 400", got)
	}
	if reached.Load() {
		t.Fatal("a request with unfinished headers reached the handler")
	}
}

// TestOversizedHeaders: a request whose headers exceed MaxHeaderBytes is
// refused with 431 before any handler runs, at the default limit and at
// a configured one; headers within the limit are served.
func TestOversizedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int // 0: the default
		big, ok  int // header sizes refused and served
		wantSize int
	}{
		{name: "default", big: 200 << 10, ok: 16 << 10, wantSize: 64 << 10},
		{name: "configured", max: 4 << 10, big: 16 << 10, ok: 2 << 10, wantSize: 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, "http://127.0.0.1:1")
			if cfg.MaxHeaderBytes != 64<<10 {
				t.Fatalf("default MaxHeaderBytes = %d, want 64 KiB", cfg.MaxHeaderBytes)
			}
			if tc.max != 0 {
				cfg.MaxHeaderBytes = tc.max
			}
			var reached atomic.Int32
			addr := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }), cfg)
			get := func(size int) int {
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
				req.Header.Set("X-Padding", strings.Repeat("a", size))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := get(tc.big); got != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("%d bytes of headers: status %d, want 431", tc.big, got)
			}
			if reached.Load() != 0 {
				t.Fatal("an oversized request reached the handler")
			}
			if got := get(tc.ok); got != http.StatusOK {
				t.Fatalf("%d bytes of headers: status %d, want 200", tc.ok, got)
			}
		})
	}
}

// TestHSTS: over an https external URL every response carries
// Strict-Transport-Security (pages, protocol, API, errors, health); over
// http none does.
func TestHSTS(t *testing.T) {
	for _, scheme := range []string{"https", "http"} {
		t.Run(scheme, func(t *testing.T) {
			clock := fakeclock.New(time.Now().Truncate(time.Second))
			mem := memstore.New(memstore.WithClock(clock.Now))
			t.Cleanup(func() { mem.Close() })
			e := newEnvWith(t, clock, sqltest.SQLite(t), mem, func(time.Duration) {}, func(o *server.Options) {
				o.Config.ExternalURL = scheme + "://id.example.test"
			})
			// The test talks plain http to the listener; only the
			// configuration says https, as behind a TLS-terminating proxy.
			addr := serveLimited(t, e.srv.Handler, e.srv.Config)
			for _, path := range []string{
				"/healthz", "/nowhere", "/t/default/.well-known/openid-configuration", "/t/default/login",
				"/t/default/api/v1/admin/users", "/t/default/oauth/token", "/t/unknown/login",
			} {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := resp.Header.Get("Strict-Transport-Security")
				want := ""
				if scheme == "https" {
					want = "max-age=31536000; includeSubDomains"
				}
				if got != want {
					t.Errorf("GET %s (%d): Strict-Transport-Security %q, want %q", path, resp.StatusCode, got, want)
				}
			}
		})
	}
}

// TestSecureCookiesAndPageHeaders: with an https external URL every cookie
// orgid sets (CSRF, pending second factor, session) is __Host- prefixed,
// Secure, HttpOnly and on Path=/ (no Domain), and every page has the safe
// browser headers.
func TestSecureCookiesAndPageHeaders(t *testing.T) {
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	mem := memstore.New(memstore.WithClock(clock.Now))
	t.Cleanup(func() { mem.Close() })
	var e *env
	e = newEnvWith(t, clock, sqltest.SQLite(t), mem, func(time.Duration) {}, func(o *server.Options) {
		// The external URL is https on the test server's own address, so
		// that redirects lead back to it; the client swaps the scheme.
		o.Config.ExternalURL = strings.Replace(o.Config.ExternalURL, "http://", "https://", 1)
	})
	httpsBase := strings.Replace(e.ts.URL, "http://", "https://", 1)
	seen := map[string]*http.Cookie{}
	checkPage := func(resp *http.Response, what string) {
		t.Helper()
		for _, c := range resp.Cookies() {
			seen[c.Name] = c
		}
		ct := resp.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "text/html") {
			return
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", what, csp)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q, want no-referrer", what, got)
		}
	}
	// A client that follows redirects to the https external URL over the
	// test server's plain http, carrying cookies as a browser would over
	// https (Go's jar keeps Secure cookies only for https URLs).
	jar := newSchemeBlindJar()
	hc := &http.Client{Jar: jar, Transport: e2etest.Record(rewriteScheme{httpsBase, e.ts.URL}), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		checkPage(resp, "GET "+u)
		return resp, string(b)
	}
	for _, page := range []string{"login", "signup", "mfa", "recovery-code", "account/security", "verify-email",
		"password-reset", "password-reset/new", "invitation", "logged-out"} {
		resp, _ := get(httpsBase + "/t/default/" + page)
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d", page, resp.StatusCode)
		}
	}

	// Sign up and in through the pages to collect the session cookie.
	clientID, _ := e.app(storage.DefaultTenant, storage.AppWeb, callback)
	authURL := httpsBase + "/t/default/authorize?" + url.Values{
		"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuJy3cUyLsM"}, "code_challenge_method": {"S256"},
	}.Encode()
	br := e2etest.NewBrowser(t)
	br.Client = hc
	br.SignUp(authURL, "cookie@example.test", "a long enough password", "Cookie")
	for _, c := range jar.all() {
		seen[c.Name] = c
	}
	// Enrol a second factor, then sign in from another browser: the
	// password step sets the pending-second-factor cookie.
	m := &mfaRP{e: e}
	page, body := br.Get(httpsBase + "/t/default/account/security")
	checkPage(page, "GET account/security")
	m.enrol(t, br, page, body)
	e.advance(30 * time.Second)
	jar2 := newSchemeBlindJar()
	br2 := e2etest.NewBrowser(t)
	hc2 := *hc
	hc2.Jar = jar2
	br2.Client = &hc2
	page, body = m.password(t, br2, authURL, "cookie@example.test", "a long enough password")
	wantCodePage(t, page, body)
	checkPage(page, "the code page")
	for _, c := range jar2.all() {
		seen[c.Name] = c
	}

	for _, want := range []string{"csrf", "session_default", "mfa_default"} {
		found := false
		for name := range seen {
			if strings.Contains(name, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no cookie like %q was set (saw %v)", want, keys(seen))
		}
	}
	t.Logf("cookies checked: %v", keys(seen))
	for name, c := range seen {
		if !strings.HasPrefix(name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly {
			t.Errorf("cookie %s: Secure=%v Path=%q Domain=%q HttpOnly=%v; want __Host- prefix, Secure, Path=/, no Domain, HttpOnly",
				name, c.Secure, c.Path, c.Domain, c.HttpOnly)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// rewriteScheme sends requests for the https base to the plain http test
// server, as a TLS-terminating proxy would.
type rewriteScheme struct{ from, to string }

func (rw rewriteScheme) RoundTrip(req *http.Request) (*http.Response, error) {
	if u := req.URL.String(); strings.HasPrefix(u, rw.from) {
		r2 := req.Clone(req.Context())
		r2.URL, _ = url.Parse(rw.to + strings.TrimPrefix(u, rw.from))
		r2.Host = r2.URL.Host
		resp, err := http.DefaultTransport.RoundTrip(r2)
		if resp != nil {
			resp.Request = req // relative links resolve against the https URL
		}
		return resp, err
	}
	return http.DefaultTransport.RoundTrip(req)
}

// schemeBlindJar is a minimal cookie jar for one host that records the
// attributes of every Set-Cookie and sends back the live cookies.
type schemeBlindJar struct {
	cookies map[string]*http.Cookie
}

func newSchemeBlindJar() *schemeBlindJar { return &schemeBlindJar{cookies: map[string]*http.Cookie{}} }

func (j *schemeBlindJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		if c.MaxAge < 0 {
			// Deleted, but its attributes were seen: keep them for checks.
			j.cookies[c.Name] = &http.Cookie{Name: c.Name, Secure: c.Secure, Path: c.Path, Domain: c.Domain, HttpOnly: c.HttpOnly, MaxAge: -1}
			continue
		}
		j.cookies[c.Name] = c
	}
}

func (j *schemeBlindJar) Cookies(*url.URL) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range j.cookies {
		if c.MaxAge >= 0 {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

func (j *schemeBlindJar) all() []*http.Cookie {
	var out []*http.Cookie
	for _, c := range j.cookies {
		out = append(out, c)
	}
	return out
}

// postRaw sends body to u as a form (chunked when chunked is set, so that
// no Content-Length announces its size) and decodes a JSON answer.
func postRaw(t *testing.T, hc *http.Client, u, clientID, secret, body string, chunked bool) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // hides the length from net/http
	}
	req, _ := http.NewRequest(http.MethodPost, u, rd)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: not JSON: %s", u, raw)
		}
	}
	if out == nil {
		out = map[string]any{"_body": string(raw)}
	}
	return resp.StatusCode, out, resp.Header
}

// TestBodyCaps: a body over the cap of its endpoint family is refused
// with 413 and the family's error, and changes nothing: OAuth endpoints
// (64 KiB, OAuth JSON error), the API (1 MiB, problem+json) and the pages
// (64 KiB, an HTML page).
func TestBodyCaps(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		iss := e.issuer(storage.DefaultTenant)
		hc := e.ts.Client()
		pad := "&pad=" + strings.Repeat("p", 64<<10)
		p := e.signUp(t, "big@example.test", "Big")

		t.Run("oauth", func(t *testing.T) {
			m2mID, m2mSecret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
			for _, tc := range []struct {
				name, path, clientID, secret, body string
				chunked                            bool
			}{
				{name: "token", path: "/oauth/token", clientID: m2mID, secret: m2mSecret, body: "grant_type=client_credentials&resource=" + url.QueryEscape(iss+"/api") + pad},
				{name: "token chunked", path: "/oauth/token", clientID: m2mID, secret: m2mSecret, body: "grant_type=client_credentials&resource=" + url.QueryEscape(iss+"/api") + pad, chunked: true},
				{name: "refresh", path: "/oauth/token", clientID: p.clientID, secret: p.secret, body: "grant_type=refresh_token&refresh_token=" + url.QueryEscape(p.refresh) + pad},
				{name: "revoke", path: "/oauth/revoke", clientID: p.clientID, secret: p.secret, body: "token=" + url.QueryEscape(p.refresh) + pad},
				{name: "introspect", path: "/oauth/introspect", clientID: p.clientID, secret: p.secret, body: "token=" + url.QueryEscape(p.access) + pad},
				{name: "authorize", path: "/authorize", body: "client_id=" + p.clientID + "&response_type=code" + pad},
				{name: "end_session", path: "/end_session", body: "client_id=" + p.clientID + pad},
				{name: "identity nonces", path: "/identity/nonces", clientID: m2mID, secret: m2mSecret, body: "x=1" + pad},
			} {
				t.Run(tc.name, func(t *testing.T) {
					status, body, h := postRaw(t, hc, iss+tc.path, tc.clientID, tc.secret, tc.body, tc.chunked)
					wantError(t, status, body, http.StatusRequestEntityTooLarge, "invalid_request")
					if d, _ := body["error_description"].(string); !strings.Contains(d, "too large") {
						t.Errorf("error_description %q does not say too large", d)
					}
					if ct := h.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type %q", ct)
					}
				})
			}
			// Nothing changed: the refresh token neither rotated nor was
			// revoked, the access token is still active.
			status, body, _ := e.postForm(iss+"/oauth/introspect", p.clientID, p.secret, url.Values{"token": {p.access}})
			if status != http.StatusOK || body["active"] != true {
				t.Fatalf("access token after refused requests: %d %v", status, body)
			}
			status, body, _ = e.postForm(iss+"/oauth/token", p.clientID, p.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}})
			if status != http.StatusOK || body["refresh_token"] == nil {
				t.Fatalf("refresh after refused requests: %d %v", status, body)
			}
			// Just under the cap is served.
			status, body, _ = postRaw(t, hc, iss+"/oauth/token", m2mID, m2mSecret, "grant_type=client_credentials&resource="+url.QueryEscape(iss+"/api")+"&pad="+strings.Repeat("p", 60<<10), false)
			if status != http.StatusOK || body["access_token"] == nil {
				t.Fatalf("60 KiB token request: %d %v", status, body)
			}
		})

		t.Run("api", func(t *testing.T) {
			a, _ := e.admin(t, storage.DefaultTenant)
			before := len(a.do("GET", "/admin/organizations", nil).want(t, http.StatusOK).items())
			huge := `{"name":"Huge","custom_data":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`
			a.do("POST", "/admin/organizations", huge, invalid()).problem(t, http.StatusRequestEntityTooLarge, "body-too-large", "")
			if after := len(a.do("GET", "/admin/organizations", nil).want(t, http.StatusOK).items()); after != before {
				t.Fatalf("%d organizations after a refused create, want %d", after, before)
			}
		})

		t.Run("pages", func(t *testing.T) {
			status, body, h := postRaw(t, hc, iss+"/login", "", "", "email=big%40example.test&password=x"+pad, false)
			if status != http.StatusRequestEntityTooLarge || !strings.Contains(body["_body"].(string), "too large") {
				t.Fatalf("huge login form: %d %v", status, body)
			}
			if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("413 page without the page CSP: %v", h)
			}
		})
	})
}

// withTokenLimits starts orgid on b with the given token rate limits.
func withTokenLimits(t *testing.T, b backend, client, ip config.Rate) *env {
	t.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	store, eph, advance := b.open(t, clock)
	return newEnvWith(t, clock, store, eph, advance, func(o *server.Options) {
		o.Config.TokenRateClient, o.Config.TokenRateIP = client, ip
	})
}

// wantThrottled checks a 429 with Retry-After and too_many_requests.
func wantThrottled(t *testing.T, status int, body map[string]any, h http.Header, retryAfter string) {
	t.Helper()
	wantError(t, status, body, http.StatusTooManyRequests, "too_many_requests")
	if got := h.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %q", got, retryAfter)
	}
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

// TestTokenRateLimitPerClient: a client that floods the token endpoint is
// refused with 429 and Retry-After while another client from the same
// address is served; once the clock passes the retry time it is served
// again. Basic, client_secret_post and a client assertion all count
// against the same client.
func TestTokenRateLimitPerClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		// Three requests at once, then one a minute.
		e := withTokenLimits(t, b, config.Rate{PerSecond: 1.0 / 60, Burst: 3}, config.Rate{})
		iss := e.issuer(storage.DefaultTenant)
		flood, floodSecret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
		other, otherSecret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
		cc := url.Values{"grant_type": {"client_credentials"}, "resource": {iss + "/api"}}
		okToken := func(id, secret string) {
			t.Helper()
			if status, body, _ := e.postForm(iss+"/oauth/token", id, secret, cc); status != http.StatusOK {
				t.Fatalf("token for %s: %d %v", id, status, body)
			}
		}
		okToken(flood, floodSecret)
		// client_secret_post names the client in the form: same bucket.
		if status, body, _ := e.postForm(iss+"/oauth/token", "", "", url.Values{
			"grant_type": {"client_credentials"}, "resource": {iss + "/api"}, "client_id": {flood}, "client_secret": {floodSecret},
		}); status != http.StatusOK {
			t.Fatalf("client_secret_post: %d %v", status, body)
		}
		okToken(flood, floodSecret)
		status, body, h := e.postForm(iss+"/oauth/token", flood, floodSecret, cc)
		wantThrottled(t, status, body, h, "60")
		// A wrong secret is throttled too: the bucket is the ID's.
		status, body, h = e.postForm(iss+"/oauth/token", flood, "wrong", cc)
		wantThrottled(t, status, body, h, "60")
		// So is a request without a body: it would still authenticate.
		status, body, h = postRaw(t, e.ts.Client(), iss+"/oauth/token", flood, floodSecret, "", false)
		wantThrottled(t, status, body, h, "60")
		// A single-page app calling cross-origin can read the refusal.
		req, _ := http.NewRequest(http.MethodPost, iss+"/oauth/token", strings.NewReader(cc.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://spa.example.test")
		req.SetBasicAuth(flood, floodSecret)
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Access-Control-Allow-Origin") != "https://spa.example.test" ||
			resp.Header.Get("Access-Control-Expose-Headers") != "Retry-After" {
			t.Fatalf("cross-origin refusal: %d %v", resp.StatusCode, resp.Header)
		}

		// Another client from the same address is unaffected.
		for range 3 {
			okToken(other, otherSecret)
		}

		// Refused requests spent nothing: a minute later one more token.
		e.advance(59 * time.Second)
		status, body, h = e.postForm(iss+"/oauth/token", flood, floodSecret, cc)
		wantThrottled(t, status, body, h, "1")
		e.advance(time.Second)
		okToken(flood, floodSecret)
		status, body, h = e.postForm(iss+"/oauth/token", flood, floodSecret, cc)
		wantThrottled(t, status, body, h, "60")
	})
}

// TestTokenRateLimitPerIP: many client IDs from one address share its
// bucket, whether or not they exist; other tenants' buckets are their own.
func TestTokenRateLimitPerIP(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := withTokenLimits(t, b, config.Rate{}, config.Rate{PerSecond: 1, Burst: 4})
		iss := e.issuer(storage.DefaultTenant)
		cc := url.Values{"grant_type": {"client_credentials"}, "resource": {iss + "/api"}}
		for i := range 4 {
			id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
			if i == 3 {
				// An unknown client spends the address's tokens as well.
				id = "no-such-client"
			}
			status, body, _ := e.postForm(iss+"/oauth/token", id, secret, cc)
			if status == http.StatusTooManyRequests {
				t.Fatalf("request %d throttled within the burst: %v", i, body)
			}
		}
		id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
		status, body, h := e.postForm(iss+"/oauth/token", id, secret, cc)
		wantThrottled(t, status, body, h, "1")

		e.tenant("other")
		oid, osecret := e.m2m("other", storage.TenantRoleAdmin)
		if status, body, _ := e.postForm(e.issuer("other")+"/oauth/token", oid, osecret, url.Values{
			"grant_type": {"client_credentials"}, "resource": {e.issuer("other") + "/api"},
		}); status != http.StatusOK {
			t.Fatalf("other tenant: %d %v", status, body)
		}
		e.advance(time.Second)
		if status, body, _ := e.postForm(iss+"/oauth/token", id, secret, cc); status != http.StatusOK {
			t.Fatalf("after a second: %d %v", status, body)
		}
	})
}

// failingTake is the in-process store with Take failing as an unreachable
// Redis does: the limiter must let requests through, not answer 500.
type failingTake struct{ storage.Ephemeral }

func (failingTake) Take(context.Context, time.Time, ...storage.Bucket) ([]storage.BucketGrant, error) {
	return nil, storage.ErrUnavailable
}

// countingTake is the in-process store counting the Take calls that reach
// it.
type countingTake struct {
	storage.Ephemeral
	calls *atomic.Int64
}

func (c countingTake) Take(ctx context.Context, now time.Time, b ...storage.Bucket) ([]storage.BucketGrant, error) {
	c.calls.Add(1)
	return c.Ephemeral.Take(ctx, now, b...)
}

// TestTokenRateLimitBatches: with a burst large enough to batch (200 →
// 10 tokens a take), most token requests are served from the replica's
// credit without a store round trip, and the limit still holds exactly:
// nothing is let through that the bucket did not give.
func TestTokenRateLimitBatches(t *testing.T) {
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	mem := memstore.New(memstore.WithClock(clock.Now))
	t.Cleanup(func() { mem.Close() })
	var calls atomic.Int64
	e := newEnvWith(t, clock, sqltest.SQLite(t), countingTake{mem, &calls}, func(time.Duration) {}, func(o *server.Options) {
		o.Config.TokenRateClient = config.Rate{PerSecond: 1, Burst: 200}
	})
	iss := e.issuer(storage.DefaultTenant)
	id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
	cc := url.Values{"grant_type": {"client_credentials"}, "resource": {iss + "/api"}}
	calls.Store(0)
	for i := range 200 {
		if status, body, _ := e.postForm(iss+"/oauth/token", id, secret, cc); status != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %v", i+1, status, body)
		}
	}
	if n := calls.Load(); n != 20 {
		t.Errorf("200 token requests took %d times from the store; want 20 (10 tokens a take)", n)
	}
	status, body, h := e.postForm(iss+"/oauth/token", id, secret, cc)
	wantThrottled(t, status, body, h, "1")
	// The credit lasts a second: a token that came back since is taken
	// from the store, one at a time as only one is there.
	e.advance(time.Second)
	if status, body, _ := e.postForm(iss+"/oauth/token", id, secret, cc); status != http.StatusOK {
		t.Fatalf("after a second: %d %v", status, body)
	}
	status, body, h = e.postForm(iss+"/oauth/token", id, secret, cc)
	wantThrottled(t, status, body, h, "1")
}

func TestTokenRateLimitStoreDown(t *testing.T) {
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	mem := memstore.New(memstore.WithClock(clock.Now))
	t.Cleanup(func() { mem.Close() })
	e := newEnvWith(t, clock, sqltest.SQLite(t), failingTake{mem}, func(time.Duration) {}, func(o *server.Options) {
		o.Config.TokenRateClient = config.Rate{PerSecond: 1, Burst: 1}
	})
	id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
	for i := range 3 {
		status, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/token", id, secret, url.Values{
			"grant_type": {"client_credentials"}, "resource": {e.issuer(storage.DefaultTenant) + "/api"},
		})
		if status != http.StatusOK {
			t.Fatalf("request %d with the limiter's store down: %d %v", i, status, body)
		}
	}
	if n := strings.Count(e.logs.String(), "token rate limit not applied"); n != 1 {
		t.Fatalf("%d warnings about the failing limiter, want 1 (spaced out):\n%s", n, e.logs.String())
	}
}

// TestTokenRateLimitDefaults: out of the box both limits are on and
// generous; "0" turns one off; nonsense is a configuration error.
func TestTokenRateLimitDefaults(t *testing.T) {
	cfg, err := config.Defaults(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenRateClient != (config.Rate{PerSecond: 100, Burst: 200}) || cfg.TokenRateIP != (config.Rate{PerSecond: 1000, Burst: 2000}) {
		t.Fatalf("defaults: client %+v, IP %+v", cfg.TokenRateClient, cfg.TokenRateIP)
	}
	if cfg.ReadHeaderTimeout != 10*time.Second || cfg.ReadTimeout != 30*time.Second || cfg.WriteTimeout != 30*time.Second || cfg.IdleTimeout != 120*time.Second {
		t.Fatalf("timeouts: %v %v %v %v", cfg.ReadHeaderTimeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.IdleTimeout)
	}
	env := map[string]string{"ORGID_TOKEN_RATE_LIMIT_CLIENT": "0", "ORGID_TOKEN_RATE_LIMIT_IP": "30/m"}
	cfg, err = config.Defaults(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TokenRateClient.Enabled() || cfg.TokenRateIP != (config.Rate{PerSecond: 0.5, Burst: 30}) {
		t.Fatalf("client %+v, IP %+v", cfg.TokenRateClient, cfg.TokenRateIP)
	}
	env = map[string]string{"ORGID_TOKEN_RATE_LIMIT_CLIENT": "fast", "ORGID_READ_HEADER_TIMEOUT": "0s"}
	_, err = config.Defaults(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "ORGID_TOKEN_RATE_LIMIT_CLIENT") || !strings.Contains(err.Error(), "ORGID_READ_HEADER_TIMEOUT") {
		t.Fatalf("bad settings: %v", err)
	}
}

// TestTokenRateLimitBehindProxy: with the load balancer's address in
// ORGID_TRUSTED_PROXIES, the per-IP bucket is the client's address from
// X-Forwarded-For, so one client behind the balancer cannot use up the
// limit of everyone else; without it the header is ignored.
func TestTokenRateLimitBehindProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			clock := fakeclock.New(time.Now().Truncate(time.Second))
			store, eph, advance := embedded.open(t, clock)
			e := newEnvWith(t, clock, store, eph, advance, func(o *server.Options) {
				o.Config.TokenRateIP = config.Rate{PerSecond: 1, Burst: 2}
				if trusted {
					o.Config.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
				}
			})
			iss := e.issuer(storage.DefaultTenant)
			id, secret := e.m2m(storage.DefaultTenant, storage.TenantRoleAdmin)
			token := func(clientIP string) (int, map[string]any, http.Header) {
				form := url.Values{"grant_type": {"client_credentials"}, "resource": {iss + "/api"}}
				req, _ := http.NewRequest(http.MethodPost, iss+"/oauth/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				// A forged hop on the left must not buy a fresh bucket.
				req.Header.Set("X-Forwarded-For", "6.6.6."+clientIP[len(clientIP)-1:]+", "+clientIP)
				req.SetBasicAuth(id, secret)
				resp, err := e.ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&body)
				return resp.StatusCode, body, resp.Header
			}
			for i := range 2 {
				if status, body, _ := token("203.0.113.1"); status != http.StatusOK {
					t.Fatalf("request %d within the burst: %d %v", i, status, body)
				}
			}
			status, body, h := token("203.0.113.1")
			wantThrottled(t, status, body, h, "1")
			status, body, h = token("203.0.113.2")
			if trusted && status != http.StatusOK {
				t.Fatalf("another client behind the proxy: %d %v; want 200 (its own bucket)", status, body)
			}
			if !trusted {
				// Untrusted: both are the proxy's (127.0.0.1) address.
				wantThrottled(t, status, body, h, "1")
			}
		})
	}
}
