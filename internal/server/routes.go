package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/adminapi"
	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/ttlcache"
	"github.com/orgid/orgid/login"
	"github.com/orgid/orgid/login/portal"
	"github.com/orgid/orgid/op"
	"github.com/orgid/orgid/storage"
)

func (s *Server) routes(pages *login.Handler, portalPages *portal.Handler, api *adminapi.Handler) http.Handler {
	r := mux.NewRouter()
	r.Use(routeTemplate)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.ready).Methods(http.MethodGet, http.MethodHead)
	// One /metrics for the process, not per tenant: Prometheus scrapes
	// each replica, and the tenant is a label.
	r.Handle("/metrics", s.Metrics.Handler()).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/assets/").Handler(http.StripPrefix("/assets", pages.Assets()))

	t := r.PathPrefix("/t/{tenant}").Subrouter()
	t.Use(s.tenants().middleware)
	pages.Register(t)
	portalPages.Register(t)
	// The APIs answer every path under /api/v1 themselves (unknown ones
	// with a problem+json 404), before the protocol catch-all below.
	api.Register(t)
	protocol := s.Provider.Handler()
	templates := protocolTemplates()
	t.PathPrefix("/").Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The provider's routes are relative to the issuer: strip /t/{tenant}.
		tenant, _ := httpx.Tenant(req.Context())
		rel := strings.TrimPrefix(req.URL.Path, "/t/"+tenant.ID)
		tpl, ok := templates[rel]
		if !ok {
			tpl = ProtocolUnknownRoute
		}
		httpx.RequestInfo(req.Context()).SetRoute(tpl)
		req2 := new(http.Request)
		*req2 = *req
		u := *req.URL
		u.Path = rel
		u.RawPath = ""
		req2.URL = &u
		protocol.ServeHTTP(w, req2)
	}))
	return s.observe(r)
}

// ProtocolUnknownRoute is the route label of a path under /t/{tenant}
// that no page, API or provider endpoint serves: one value, whatever
// the path, so probing adds no series.
const ProtocolUnknownRoute = "/t/{tenant}/{unknown}"

// protocolTemplates maps the provider's paths (relative to the issuer) to
// their route templates.
func protocolTemplates() map[string]string {
	m := map[string]string{}
	for _, p := range op.Paths() {
		m[p] = "/t/{tenant}" + p
	}
	return m
}

// ready answers 200 when both stores answer, 503 otherwise.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]string{"durable": "ok", "ephemeral": "ok"}
	code := http.StatusOK
	if err := s.Store.Ping(ctx); err != nil {
		status["durable"], code = "unavailable", http.StatusServiceUnavailable
		s.log.WarnContext(ctx, "durable store not ready", slog.Any("error", err))
	}
	if err := s.State.KV.Ping(ctx); err != nil {
		status["ephemeral"], code = "unavailable", http.StatusServiceUnavailable
		s.log.WarnContext(ctx, "ephemeral store not ready", slog.Any("error", err))
	}
	writeJSON(w, code, status)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// tenants resolves /t/{tenant} to a tenant through a short cache; a
// tenant created on another replica is served at once (misses are not
// cached).
func (s *Server) tenants() *tenantCache {
	c := ttlcache.New(30*time.Second, s.now, s.Store.GetTenant).Observe(s.Metrics.CacheObserver("tenant"))
	return &tenantCache{s: s, cache: c}
}

type tenantCache struct {
	s     *Server
	cache *ttlcache.Cache[string, storage.Tenant]
	// known holds each tenant once loaded (tenants are few, and the store
	// has no way to change or delete one).
	// While the store is unreachable a known tenant is still served, so
	// that each endpoint answers the outage in its own terms (OAuth
	// temporarily_unavailable, problem+json, the 503 page) or from its
	// own caches (discovery, JWKS), not all with one generic problem.
	known sync.Map
}

// middleware puts the tenant into the request context; an unknown tenant
// is 404 on every tenant path.
func (c *tenantCache) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["tenant"]
		t, err := c.cache.Get(r.Context(), id)
		if k, ok := c.known.Load(id); ok && errors.Is(err, storage.ErrUnavailable) {
			t, err = k.(storage.Tenant), nil
		} else if err == nil && !ok {
			c.known.Store(id, t)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound):
			httpx.WriteProblem(w, http.StatusNotFound, "Not Found", "no such tenant")
			return
		case errors.Is(err, storage.ErrUnavailable):
			c.s.log.WarnContext(r.Context(), "load tenant", slog.Any("error", err))
			w.Header().Set("Retry-After", "5")
			httpx.WriteProblem(w, http.StatusServiceUnavailable, "Service Unavailable", "try again shortly")
			return
		case err != nil:
			c.s.log.ErrorContext(r.Context(), "load tenant", slog.Any("error", err))
			httpx.WriteProblem(w, http.StatusInternalServerError, "Internal Server Error", "")
			return
		}
		httpx.RequestInfo(r.Context()).SetTenant(t.ID)
		next.ServeHTTP(w, r.WithContext(httpx.WithTenant(r.Context(), t)))
	})
}
