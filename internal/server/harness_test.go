package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/memstore"
	"github.com/orgid/orgid/storage/redisstore/redistest"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// fakeClock is the injected clock: tests move time instead of sleeping.
type fakeClock = fakeclock.Clock

// backend is a pair of durable and ephemeral stores the suite runs on.
type backend struct {
	name string
	// open returns the stores and a function that moves the ephemeral
	// store's time forward (Redis keeps its own clock).
	open func(t testing.TB, clock *fakeClock) (storage.Store, storage.Ephemeral, func(time.Duration))
}

var embedded = backend{name: "sqlite+memory", open: func(t testing.TB, clock *fakeClock) (storage.Store, storage.Ephemeral, func(time.Duration)) {
	mem := memstore.New(memstore.WithClock(clock.Now))
	t.Cleanup(func() { mem.Close() })
	return sqltest.SQLite(t), mem, func(time.Duration) {}
}}

var scaled = backend{name: "postgres+redis", open: func(t testing.TB, clock *fakeClock) (storage.Store, storage.Ephemeral, func(time.Duration)) {
	red, advance := redistest.New(t)
	return sqltest.Postgres(t), red, advance
}}

// eachBackend runs f on the embedded stores and, when the test services are
// configured (ORGID_TEST_DATABASE_URL and ORGID_TEST_REDIS_URL), on
// PostgreSQL + Redis.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run(embedded.name, func(t *testing.T) { f(t, embedded) })
	t.Run(scaled.name, func(t *testing.T) {
		if os.Getenv(sqltest.EnvDatabaseURL) == "" || os.Getenv(redistest.EnvURL) == "" {
			t.Skip("set ORGID_TEST_DATABASE_URL and ORGID_TEST_REDIS_URL to run on PostgreSQL + Redis")
		}
		f(t, scaled)
	})
}

// env is one running orgid behind a real HTTP server on loopback.
type env struct {
	t          testing.TB
	ctx        context.Context
	clock      *fakeClock
	advanceEph func(time.Duration)
	srv        *server.Server
	ts         *httptest.Server
	logs       *e2etest.Buffer
}

func testConfig(t testing.TB, external string) config.Config {
	t.Helper()
	cfg, err := config.Defaults(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.ExternalURL = external
	cfg.DataDir = t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(key)
	// The fake clock stands still, so any token rate limit would run dry
	// in tests and benchmarks that ask for many tokens; limits_test.go
	// turns them on where it tests them.
	cfg.TokenRateClient, cfg.TokenRateIP = config.Rate{}, config.Rate{}
	return cfg
}

func newEnv(t testing.TB, b backend) *env {
	t.Helper()
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	store, eph, advance := b.open(t, clock)
	return newEnvWith(t, clock, store, eph, advance)
}

// newEnvWith starts orgid on the given stores; opts may change its
// options (configuration included) before it starts.
func newEnvWith(t testing.TB, clock *fakeClock, store storage.Store, eph storage.Ephemeral, advance func(time.Duration), opts ...func(*server.Options)) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	e := &env{t: t, ctx: context.Background(), clock: clock, advanceEph: advance, ts: ts, logs: &e2etest.Buffer{}}
	cfg := testConfig(t, "http://"+ts.Listener.Addr().String())
	// The log also goes to the process-wide capture the leak check scans.
	log := slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, e2etest.LogCapture), &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := server.Options{Config: cfg, Logger: log, Now: clock.Now, Store: store, Ephemeral: eph}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := server.New(e.ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	ts.Config.Handler = srv.Handler
	ts.Start()
	// Every secret a test sends or receives is registered for the leak check.
	ts.Client().Transport = e2etest.Record(ts.Client().Transport)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return e
}

// advance moves orgid's clock and the ephemeral store's clock together.
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	e.advanceEph(d)
}

func (e *env) issuer(tenant string) string { return e.ts.URL + "/t/" + tenant }

// app registers an application directly in the store and returns its
// client ID and secret (empty for public clients).
func (e *env) app(tenant string, typ storage.ApplicationType, redirect string, mutate ...func(*storage.Application)) (string, string) {
	e.t.Helper()
	a := storage.Application{
		TenantID:               tenant,
		ClientID:               secure.ID(""),
		Name:                   "Test " + string(typ),
		Type:                   typ,
		RedirectURIs:           []string{redirect},
		PostLogoutRedirectURIs: []string{redirect + "/logged-out"},
		CreatedAt:              e.clock.Now(),
	}
	var secret string
	if !typ.Public() {
		secret = secure.Token()
		e2etest.Secrets.Add("client secret", secret)
		a.SecretHash = secure.Hash(secret)
	}
	for _, m := range mutate {
		m(&a)
	}
	if err := a.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.Store.CreateApplication(e.ctx, a); err != nil {
		e.t.Fatal(err)
	}
	return a.ClientID, secret
}

// tenant creates another tenant with its keys.
func (e *env) tenant(id string) {
	e.t.Helper()
	if err := e.srv.EnsureTenant(e.ctx, id, id); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) rp(tenant, clientID, secret string, scopes ...string) *e2etest.RP {
	e.t.Helper()
	r := e2etest.NewRP(e.t, e.ts.Client(), e.issuer(tenant), clientID, secret, scopes...)
	r.Now = e.clock.Now
	return r
}

func (e *env) browser() *e2etest.Browser { return e2etest.NewBrowser(e.t) }

// postForm sends a form to orgid (basic auth when clientID is set).
func (e *env) postForm(u string, clientID, secret string, form url.Values) (int, map[string]any, http.Header) {
	e.t.Helper()
	return e2etest.PostForm(e.t, e.ts.Client(), u, clientID, secret, form)
}

// callback is where test clients are redirected.
const callback = e2etest.Callback

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
