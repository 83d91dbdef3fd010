package server_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/fakeclock"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
)

// The bootstrap client is an m2m app with the tenant role admin in tenant
// default, created once however often orgid starts.
func TestBootstrapClient(t *testing.T) {
	clock := fakeclock.New(time.Now())
	store, eph, _ := embedded.open(t, clock)
	cfg := testConfig(t, "http://127.0.0.1:1")
	cfg.BootstrapClientID = "bootstrap-admin"
	cfg.BootstrapClientSecret = secure.Token()
	for range 2 {
		srv, err := server.New(context.Background(), server.Options{Config: cfg, Now: clock.Now, Store: store, Ephemeral: eph})
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
	}
	app, err := store.GetApplication(context.Background(), storage.DefaultTenant, "bootstrap-admin")
	if err != nil {
		t.Fatal(err)
	}
	if app.Type != storage.AppM2M || !slices.Equal(app.TenantRoles, []string{storage.TenantRoleAdmin}) ||
		!secure.Equal(app.SecretHash, secure.Hash(cfg.BootstrapClientSecret)) {
		t.Fatalf("bootstrap client = %+v", app)
	}
	apps, _, err := store.ListApplications(context.Background(), storage.DefaultTenant, storage.Page{})
	if err != nil || len(apps) != 1 {
		t.Fatalf("%d applications after two starts (%v), want 1", len(apps), err)
	}
}

// pingFailing is a real store whose Ping fails once told to.
type pingFailing struct {
	storage.Store
	down atomic.Bool
}

func (p *pingFailing) Ping(ctx context.Context) error {
	if p.down.Load() {
		return errors.New("dial tcp 10.9.9.9:5432: connection refused")
	}
	return p.Store.Ping(ctx)
}

func TestReadiness(t *testing.T) {
	clock := fakeclock.New(time.Now())
	real, eph, advance := embedded.open(t, clock)
	st := &pingFailing{Store: real}
	e := newEnvWith(t, clock, st, eph, advance)
	get := func(path string) int {
		resp, err := e.ts.Client().Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d with both stores up", got)
	}
	st.down.Store(true)
	if got := get("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d with the durable store down, want 503", got)
	}
	if got := get("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz = %d: the process is up even when a store is not", got)
	}
	st.down.Store(false)
	if got := get("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d after the store came back", got)
	}
}
