package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/redisstore"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/sqlstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// outage is orgid on PostgreSQL and Redis reached through proxies that
// the test cuts and restores: the real services stay up (other tests use
// them) while orgid sees them go away and come back.
type outage struct {
	*env
	pg, redis *e2etest.Proxy
	// cutAtAudit, when set, is run when a transaction appends its audit
	// entry, i.e. after the change itself was written inside it.
	cutAtAudit atomic.Pointer[func()]
}

// outageStoreTimeout is the store timeout of these tests: short, since
// a blackholed store makes a request wait that long.
const outageStoreTimeout = 2 * time.Second

func newOutage(t *testing.T) *outage {
	t.Helper()
	if os.Getenv(sqltest.EnvDatabaseURL) == "" || os.Getenv(redistest.EnvURL) == "" {
		t.Skip("set ORGID_TEST_DATABASE_URL and ORGID_TEST_REDIS_URL to run outages of PostgreSQL and Redis")
	}
	ctx := context.Background()
	o := &outage{}

	pgURL, err := url.Parse(sqltest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	o.pg = proxy(t, pgURL.Host)
	pgURL.Host = o.pg.Addr()
	st, err := sqlstore.Open(ctx, pgURL.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	redisURL, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	o.redis = proxy(t, redisURL.Host)
	redisURL.Host = o.redis.Addr()
	var b [8]byte
	rand.Read(b[:])
	// Keys expire on their own (every one has a TTL); the prefix keeps
	// this test's apart from others'.
	red, err := redisstore.New(ctx, redisURL.String(), redisstore.WithPrefix("orgid_outage_"+hex.EncodeToString(b[:])+":"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { red.Close() })

	clock := fakeclock.New(time.Now().Truncate(time.Second))
	o.env = newEnvWith(t, clock, &auditCutter{Store: st, cut: &o.cutAtAudit}, red, func(time.Duration) {}, func(opts *server.Options) {
		opts.Config.StoreTimeout = outageStoreTimeout
	})
	return o
}

func proxy(t *testing.T, target string) *e2etest.Proxy {
	t.Helper()
	p, err := e2etest.NewProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// auditCutter is the PostgreSQL store with a hook at the last step of a
// management write, to cut the database in the middle of a transaction.
type auditCutter struct {
	storage.Store
	cut *atomic.Pointer[func()]
}

func (c *auditCutter) WithTx(ctx context.Context, fn func(storage.Store) error) error {
	return c.Store.WithTx(ctx, func(tx storage.Store) error { return fn(&auditCutter{Store: tx, cut: c.cut}) })
}

func (c *auditCutter) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	if f := c.cut.Swap(nil); f != nil {
		(*f)()
	}
	return c.Store.AppendAudit(ctx, e)
}

// wantUnavailable fails unless an OAuth endpoint answered 503
// temporarily_unavailable with Retry-After.
func wantUnavailable(t *testing.T, what string, status int, body map[string]any, h http.Header) {
	t.Helper()
	if status != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || h.Get("Retry-After") == "" {
		t.Errorf("%s: %d %v (Retry-After %q); want 503 temporarily_unavailable with Retry-After", what, status, body, h.Get("Retry-After"))
	}
	if d, _ := body["error_description"].(string); strings.Contains(d, "127.0.0.1") || strings.Contains(d, "sql") {
		t.Errorf("%s: the description leaks internals: %q", what, d)
	}
}

// wantPage503 fails unless a page answered the 503 page with Retry-After.
func wantPage503(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "temporarily unavailable") {
		t.Errorf("%s: %d (Retry-After %q); want the 503 page:\n%s", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

func (o *outage) get(path string) int {
	o.t.Helper()
	resp, err := o.ts.Client().Get(o.ts.URL + path)
	if err != nil {
		o.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// restore ends the outage of px and waits until orgid is ready again. A
// pooled connection that died in the outage fails the one request that
// next uses it (whether its statement ran is unknown, so it is not
// retried) and is then dropped: a few requests right after the restore
// may be 503, none may be anything else.
func (o *outage) restore(t *testing.T, px *e2etest.Proxy) {
	t.Helper()
	px.Restore()
	for range 20 {
		switch got := o.get("/readyz"); got {
		case http.StatusOK:
			return
		case http.StatusServiceUnavailable:
		default:
			t.Fatalf("/readyz after the outage: %d; want 503 or 200", got)
		}
	}
	t.Fatal("/readyz still 503 after 20 requests")
}

func TestOutagePostgres(t *testing.T) {
	o := newOutage(t)
	tenant := storage.DefaultTenant
	tokenURL := o.issuer(tenant) + "/oauth/token"
	p := o.signUp(t, "outage@example.test", "Out Age")
	admin, _ := o.admin(t, tenant)
	m2mID, m2mSecret := o.m2m(tenant)
	org := o.organization(t, "Outage Corp")
	o.link(t, org.ID, m2mID, storage.RoleAdmin)
	ccForm := orgParams(org.ID, "grant_type", "client_credentials")
	refreshForm := func() url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.refresh}}
	}
	// A sign-in under way: its auth request lives in Redis, the user in
	// PostgreSQL.
	webID, webSecret := o.app(tenant, storage.AppWeb, callback)
	rp := o.rp(tenant, webID, webSecret, "openid")
	br := o.browser()
	loginPage, loginBody := br.Get(rp.Config.AuthCodeURL("s"))
	if loginPage.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", loginPage.StatusCode)
	}

	checkDown := func(t *testing.T) {
		// Past the client cache's second: the client must be read again.
		o.advance(2 * time.Second)
		status, body, h := o.postForm(tokenURL, m2mID, m2mSecret, ccForm)
		wantUnavailable(t, "client credentials", status, body, h)
		status, body, h = o.postForm(tokenURL, p.clientID, p.secret, refreshForm())
		wantUnavailable(t, "refresh", status, body, h)
		status, body, h = o.postForm(o.issuer(tenant)+"/oauth/introspect", p.clientID, p.secret, url.Values{"token": {p.access}})
		wantUnavailable(t, "introspection", status, body, h)

		req, _ := http.NewRequest(http.MethodGet, o.issuer(tenant)+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+p.access)
		if resp, err := o.ts.Client().Do(req); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("userinfo: %d (Retry-After %q); want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}

		// A new sign-in: the client must be read to trust its redirect
		// URI, so the answer is a 503, not a redirect and not a 400.
		if resp, err := o.ts.Client().Get(rp.Config.AuthCodeURL("s2")); err != nil {
			t.Fatal(err)
		} else {
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			wantUnavailable(t, "authorize", resp.StatusCode, body, resp.Header)
		}

		r := admin.do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusServiceUnavailable, "unavailable", "")
		if r.header.Get("Retry-After") == "" {
			t.Error("API 503 without Retry-After")
		}

		resp, body2 := br.Submit(loginPage, loginBody, "Sign in", map[string]string{"email": p.email, "password": "a long enough password"})
		wantPage503(t, "sign-in", resp, body2)

		// Discovery needs no store, and the key set is cached: verifiers
		// keep working through the outage.
		if got := o.get("/t/" + tenant + "/.well-known/openid-configuration"); got != http.StatusOK {
			t.Errorf("discovery: %d; want 200", got)
		}
		if got := o.get("/t/" + tenant + "/jwks"); got != http.StatusOK {
			t.Errorf("JWKS: %d; want 200 from the cache", got)
		}
		if got := o.get("/readyz"); got != http.StatusServiceUnavailable {
			t.Errorf("/readyz: %d; want 503", got)
		}
		if got := o.get("/t/" + tenant + "/ready"); got != http.StatusServiceUnavailable {
			t.Errorf("issuer /ready: %d; want 503", got)
		}
		if got := o.get("/healthz"); got != http.StatusOK {
			t.Errorf("/healthz: %d; want 200", got)
		}
	}
	checkUp := func(t *testing.T) {
		o.advance(2 * time.Second)
		if status, body, _ := o.postForm(tokenURL, m2mID, m2mSecret, ccForm); status != http.StatusOK {
			t.Errorf("client credentials after the outage: %d %v", status, body)
		}
		// The refresh token the outage refused was not rotated: it works.
		status, body, _ := o.postForm(tokenURL, p.clientID, p.secret, refreshForm())
		if status != http.StatusOK {
			t.Errorf("refresh after the outage: %d %v", status, body)
		} else {
			p.refresh = body["refresh_token"].(string)
		}
		admin.do(http.MethodGet, "/admin/organizations", nil).want(t, http.StatusOK)
		if got := o.get("/t/" + tenant + "/ready"); got != http.StatusOK {
			t.Errorf("issuer /ready after the outage: %d", got)
		}
	}

	t.Run("cut", func(t *testing.T) {
		o.pg.Cut()
		checkDown(t)
		o.restore(t, o.pg)
		checkUp(t)
	})
	t.Run("blackholed", func(t *testing.T) {
		// No answer at all: only the store timeout ends the wait.
		o.pg.Blackhole()
		// The first requests may meet pooled connections the blackhole
		// closed (an immediate 503); then a new connection waits for an
		// answer that never comes, until the store timeout.
		logged := len(o.logs.String())
		for i := 0; !strings.Contains(o.logs.String()[logged:], "deadline exceeded"); i++ {
			if i == 20 {
				t.Fatal("no request ran into the store timeout")
			}
			o.advance(2 * time.Second)
			status, body, h := o.postForm(tokenURL, m2mID, m2mSecret, ccForm)
			wantUnavailable(t, "client credentials", status, body, h)
		}
		o.restore(t, o.pg)
		checkUp(t)
	})
	t.Run("tenant cache expired", func(t *testing.T) {
		// Every cache is stale: the tenant still resolves, and each
		// endpoint answers the outage in its own terms.
		o.pg.Cut()
		o.advance(time.Hour)
		status, body, h := o.postForm(tokenURL, m2mID, m2mSecret, ccForm)
		wantUnavailable(t, "client credentials", status, body, h)
		admin.do(http.MethodGet, "/admin/organizations", nil).problem(t, http.StatusServiceUnavailable, "unavailable", "")
		if got := o.get("/t/" + tenant + "/jwks"); got != http.StatusOK && got != http.StatusServiceUnavailable {
			t.Errorf("JWKS: %d; want 200 or 503", got)
		}
		o.restore(t, o.pg)
		if got := o.get("/t/" + tenant + "/jwks"); got != http.StatusOK {
			t.Errorf("JWKS after the outage: %d", got)
		}
		// The API token expired with the hour: take a fresh one.
		admin, _ = o.admin(t, tenant)
		status, body, _ = o.postForm(tokenURL, m2mID, m2mSecret, ccForm)
		if status != http.StatusOK {
			t.Errorf("client credentials after the outage: %d %v", status, body)
		}
	})
}

// TestOutageNoPartialWrite cuts PostgreSQL in the middle of a management
// write, after the organization is written and before its audit entry:
// the transaction leaves nothing.
func TestOutageNoPartialWrite(t *testing.T) {
	o := newOutage(t)
	admin, _ := o.admin(t, storage.DefaultTenant)
	cut := func() { o.pg.Cut() }
	o.cutAtAudit.Store(&cut)
	admin.do(http.MethodPost, "/admin/organizations", map[string]any{"name": "Half Written", "slug": "half-written"}).
		problem(t, http.StatusServiceUnavailable, "unavailable", "")
	if o.cutAtAudit.Load() != nil {
		t.Fatal("the write never reached its audit entry")
	}
	o.restore(t, o.pg)
	if _, err := o.srv.Store.GetOrganizationBySlug(o.ctx, storage.DefaultTenant, "half-written"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("organization after the cut write: %v; want not found (nothing written)", err)
	}
	// And the same write goes through once the database is back.
	admin.do(http.MethodPost, "/admin/organizations", map[string]any{"name": "Half Written", "slug": "half-written"}).want(t, http.StatusCreated)
}

func TestOutageRedis(t *testing.T) {
	o := newOutage(t)
	tenant := storage.DefaultTenant
	tokenURL := o.issuer(tenant) + "/oauth/token"
	p := o.signUp(t, "outage-redis@example.test", "Red Is")
	webID, webSecret := o.app(tenant, storage.AppWeb, callback)
	rp := o.rp(tenant, webID, webSecret, "openid")
	authURL := rp.Config.AuthCodeURL("s")

	// A code issued before the outage, and a sign-in under way.
	codeResp := o.browser().SignIn(authURL, p.email, "a long enough password")
	code := e2etest.RedirectParams(t, codeResp).Get("code")
	exchange := func() (int, map[string]any, http.Header) {
		return o.postForm(tokenURL, webID, webSecret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}})
	}
	br := o.browser()
	loginPage, loginBody := br.Get(authURL)
	if loginPage.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", loginPage.StatusCode)
	}

	o.redis.Cut()
	// A new sign-in: the auth request cannot be stored. RFC 6749
	// §4.1.2.1 has the authorization endpoint tell the client
	// temporarily_unavailable through the redirect.
	resp, body := o.browser().Get(authURL)
	if q := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(q, "error=temporarily_unavailable") {
		t.Errorf("authorize: %d to %q; want a redirect with error=temporarily_unavailable:\n%s", resp.StatusCode, q, body)
	}
	resp, body = br.Get(loginPage.Request.URL.String())
	wantPage503(t, "login page", resp, body)
	resp, body = br.Submit(loginPage, loginBody, "Sign in", map[string]string{"email": p.email, "password": "a long enough password"})
	wantPage503(t, "sign-in", resp, body)
	status, tok, h := exchange()
	wantUnavailable(t, "code exchange", status, tok, h)
	if got := o.get("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz: %d; want 503", got)
	}
	if got := o.get("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz: %d; want 200", got)
	}

	o.restore(t, o.redis)
	// The code the outage refused was not spent: it still works, once.
	if status, tok, _ := exchange(); status != http.StatusOK {
		t.Errorf("code exchange after the outage: %d %v", status, tok)
	}
	resp, body = br.Submit(loginPage, loginBody, "Sign in", map[string]string{"email": p.email, "password": "a long enough password"})
	if resp.StatusCode != http.StatusFound || e2etest.RedirectParams(t, resp).Get("code") == "" {
		t.Errorf("sign-in after the outage: %d\n%s", resp.StatusCode, body)
	}
}
