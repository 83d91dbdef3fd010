package login

import (
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/fakeclock"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

const (
	testTenant   = "acme"
	testClientID = "crm"
	testAppName  = "Acme CRM"
	testRedirect = "https://crm.example/callback"
	testIP       = "203.0.113.7"
)

// clock is shared by the handler and the ephemeral store, so tests move
// time instead of sleeping.
type clock = fakeclock.Clock

// testFlow is the OIDC side: a fixed callback per auth request.
type testFlow struct{}

func (testFlow) CallbackURL(_ context.Context, tenantID, id string) string {
	return "http://orgid.test/t/" + tenantID + "/callback?id=" + url.QueryEscape(id)
}

// env is a Handler over real stores behind a router shaped like production.
type env struct {
	t      *testing.T
	clock  *clock
	store  storage.Store
	state  storage.State
	h      *Handler
	router http.Handler
	tenant storage.Tenant
	// sealer seals the outbox's messages (mail.Open reads them).
	sealer *keys.Sealer
}

type envOption func(*Config, *storage.Tenant)

func withExternalURL(u string) envOption {
	return func(c *Config, _ *storage.Tenant) { c.ExternalURL = u }
}

func withoutPersonalOrganization() envOption {
	return func(_ *Config, t *storage.Tenant) { t.Settings.PersonalOrganization = false }
}

func withKV(wrap func(storage.Ephemeral) storage.Ephemeral) envOption {
	return func(c *Config, _ *storage.Tenant) { c.State.KV = wrap(c.State.KV) }
}

// withPostgres runs the env on PostgreSQL (ORGID_TEST_DATABASE_URL); the
// test is skipped when it is unset. SQLite otherwise.
func withPostgres(t *testing.T) envOption {
	store := sqltest.Postgres(t)
	return func(c *Config, _ *storage.Tenant) { c.Store = store }
}

func withConfig(f func(*Config)) envOption {
	return func(c *Config, _ *storage.Tenant) { f(c) }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	clk := fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	kv := memstore.New(memstore.WithClock(clk.Now))
	t.Cleanup(func() { kv.Close() })
	sealer := testSealer(t)

	cfg := Config{
		State:       storage.State{KV: kv},
		Flow:        testFlow{},
		ExternalURL: "http://orgid.test",
		CSRFKey:     []byte("0123456789abcdef0123456789abcdef"),
		Sealer:      sealer,
		Mail:        mail.NewOutbox(sealer, clk.Now),
		Now:         clk.Now,
		Logger:      slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
	tenant := storage.Tenant{ID: testTenant, Name: "Acme", Settings: storage.DefaultTenantSettings(), CreatedAt: clk.Now()}
	for _, o := range opts {
		o(&cfg, &tenant)
	}
	if cfg.Store == nil {
		cfg.Store = sqltest.SQLite(t)
	}
	store := cfg.Store
	if err := store.CreateTenant(ctx, tenant); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if err := store.CreateTenant(ctx, storage.Tenant{ID: "other", Name: "Other", Settings: storage.DefaultTenantSettings(), CreatedAt: clk.Now()}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	if err := store.CreateApplication(ctx, storage.Application{
		TenantID: testTenant, ClientID: testClientID, Name: testAppName, Type: storage.AppWeb,
		SecretHash: secure.Hash("secret"), RedirectURIs: []string{testRedirect}, CreatedAt: clk.Now(),
	}); err != nil {
		t.Fatalf("create application: %v", err)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	r := mux.NewRouter()
	r.PathPrefix("/assets/").Handler(http.StripPrefix("/assets/", h.Assets()))
	sub := r.PathPrefix("/t/{tenant}").Subrouter()
	sub.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			tn, err := store.GetTenant(req.Context(), mux.Vars(req)["tenant"])
			if err != nil {
				http.NotFound(w, req)
				return
			}
			next.ServeHTTP(w, req.WithContext(httpx.WithTenant(req.Context(), tn)))
		})
	})
	h.Register(sub)
	return &env{t: t, clock: clk, store: store, state: cfg.State, h: h, router: r, tenant: tenant, sealer: sealer}
}

// authRequest stores a fresh auth request of the test client, as op does
// at /authorize, after mod adjusts it, and returns its ID.
func (e *env) authRequest(mod func(*storage.AuthRequest)) string {
	e.t.Helper()
	ar := &storage.AuthRequest{
		ID:           secure.ID("ar"),
		TenantID:     testTenant,
		ClientID:     testClientID,
		RedirectURI:  testRedirect,
		ResponseType: "code",
		Scopes:       []string{"openid", "email"},
		State:        "st",
		CreatedAt:    e.clock.Now(),
		GrantID:      secure.ID("grt"),
	}
	if mod != nil {
		mod(ar)
	}
	if err := e.state.PutAuthRequest(context.Background(), ar, time.Hour); err != nil {
		e.t.Fatalf("put auth request: %v", err)
	}
	return ar.ID
}

func (e *env) getAuthRequest(id string) *storage.AuthRequest {
	e.t.Helper()
	ar, err := e.state.AuthRequest(context.Background(), testTenant, id)
	if err != nil {
		e.t.Fatalf("auth request %s: %v", id, err)
	}
	return ar
}

// user creates a user with a password. The hash uses small argon2id
// parameters to keep tests fast; verification reads them from the hash.
func (e *env) user(email, plain string) storage.User {
	e.t.Helper()
	hash, err := password.HashWithParams(plain, password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	u := storage.User{
		TenantID: testTenant, ID: secure.ID("usr"), Email: email, Name: "Ada",
		PasswordHash: hash, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	return u
}

// hits reads a sign-in failure counter.
func (e *env) hits(name, subject string) int64 {
	e.t.Helper()
	n, _, err := e.state.Hits(context.Background(), testTenant, name, subject, 0, e.h.cfg.FailureWindow)
	if err != nil {
		e.t.Fatalf("hits: %v", err)
	}
	return n
}

// browser keeps cookies between requests, like a browser on one host.
type browser struct {
	e       *env
	ip      string
	cookies map[string]*http.Cookie
}

func (e *env) browser() *browser {
	return &browser{e: e, ip: testIP, cookies: map[string]*http.Cookie{}}
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	body string
}

func (b *browser) do(method, target string, form url.Values) response {
	b.e.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "http://orgid.test"+target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "http://orgid.test"+target, nil)
	}
	req.RemoteAddr = b.ip + ":41000"
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.e.router.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return response{Response: res, body: rec.Body.String()}
}

func (b *browser) get(target string) response { return b.do(http.MethodGet, target, nil) }

var csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken returns the CSRF field of a rendered form.
func formToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfFieldRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token field in page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// submit opens page (login or signup) for the auth request and posts the
// form with fields, as a user would.
func (b *browser) submit(page, arID string, fields url.Values) response {
	b.e.t.Helper()
	res := b.get("/t/" + testTenant + "/" + page + "?authRequestID=" + url.QueryEscape(arID))
	if res.StatusCode != http.StatusOK {
		b.e.t.Fatalf("GET %s: status %d:\n%s", page, res.StatusCode, res.body)
	}
	form := url.Values{"csrf_token": {formToken(b.e.t, res.body)}, "authRequestID": {arID}}
	for k, v := range fields {
		form[k] = v
	}
	return b.do(http.MethodPost, "/t/"+testTenant+"/"+page+"?authRequestID="+url.QueryEscape(arID), form)
}

func (b *browser) login(arID, email, password string) response {
	b.e.t.Helper()
	return b.submit("login", arID, url.Values{"email": {email}, "password": {password}})
}

func (b *browser) sessionCookie() *http.Cookie {
	return b.cookies[httpx.SessionCookieName(testTenant, b.e.h.secure)]
}

// callback is where testFlow sends the browser for auth request id.
func callback(id string) string { return testFlow{}.CallbackURL(context.Background(), testTenant, id) }

// failingKV is the real in-memory store with injected outages, standing in
// for Redis going away.
type failingKV struct {
	storage.Ephemeral
	mu   sync.Mutex
	down bool
}

func (f *failingKV) setDown(v bool) { f.mu.Lock(); f.down = v; f.mu.Unlock() }

func (f *failingKV) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.Join(storage.ErrUnavailable, errors.New("dial tcp 10.0.0.9:6379: connection refused"))
	}
	return nil
}

func (f *failingKV) Get(ctx context.Context, key string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Ephemeral.Get(ctx, key)
}

func (f *failingKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Ephemeral.Set(ctx, key, v, ttl)
}

type (
	storageAuthRequest = storage.AuthRequest
	storageEphemeral   = storage.Ephemeral
)

// testLog sends the handler's log to the test's, shown on failure only.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
