package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// Client is the portal's OAuth client in one tenant.
type Client struct {
	ID     string
	Secret string
}

// Sealer seals the secrets a page shows once (a new client secret, a
// private key) for the moment between a form's redirect and the page
// that shows them; *keys.Sealer implements it.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Config is what the portal needs. Every field but Now, SessionTTL and
// Logger is required.
type Config struct {
	Store  storage.Store
	State  storage.State
	Manage *manage.Service
	// ExternalURL is the public base URL.
	ExternalURL string
	// CSRFKey signs form tokens (at least 32 bytes).
	CSRFKey []byte
	Sealer  Sealer
	// Issuer returns a tenant's issuer.
	Issuer func(tenantID string) string
	// Client returns the portal's client of a tenant, creating it when
	// missing; its redirect URI is {issuer}/portal/callback.
	Client func(ctx context.Context, tenantID string) (Client, error)
	// HTTPClient reaches the provider's endpoints (discovery, token,
	// JWKS); orgid passes one that serves them in process.
	HTTPClient *http.Client
	Now        func() time.Time
	// SessionTTL is the absolute lifetime of a portal session (default 12 hours).
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// DefaultSessionTTL is the default Config.SessionTTL.
const DefaultSessionTTL = 12 * time.Hour

// Handler serves the portal of every tenant.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	m        *manage.Service
	external string // ExternalURL without a trailing slash
	basePath string // path of ExternalURL, without a trailing slash
	secure   bool
	csrf     ui.CSRF
	pages    *pages
	rp       *relyingParty
	tabs     []tab
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Store == nil, cfg.State.KV == nil, cfg.Manage == nil, cfg.Sealer == nil,
		cfg.Issuer == nil, cfg.Client == nil, cfg.HTTPClient == nil:
		return nil, errors.New("portal: Config needs Store, State, Manage, Sealer, Issuer, Client and HTTPClient")
	case len(cfg.CSRFKey) < 32:
		return nil, errors.New("portal: Config.CSRFKey must be at least 32 bytes")
	}
	u, err := ui.ExternalURL(cfg.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("portal: Config.ExternalURL %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:      cfg,
		log:      cfg.Logger,
		m:        cfg.Manage,
		external: strings.TrimSuffix(cfg.ExternalURL, "/"),
		basePath: strings.TrimSuffix(u.Path, "/"),
		secure:   u.Scheme == "https",
		pages:    pg,
	}
	h.csrf = ui.NewCSRF(cfg.CSRFKey, h.secure)
	h.rp = newRelyingParty(cfg)
	h.tabs = orgTabs()
	return h, nil
}

// Register adds the portal's routes to r, the /t/{tenant} subrouter whose
// middleware has put the tenant into the request context.
func (h *Handler) Register(r *mux.Router) {
	get := func(path string, fn handlerFunc) {
		r.Handle(path, h.signedIn(fn)).Methods(http.MethodGet, http.MethodHead)
	}
	post := func(path string, fn handlerFunc) { r.Handle(path, h.signedIn(h.form(fn))).Methods(http.MethodPost) }

	r.HandleFunc("/portal/login", h.getLogin).Methods(http.MethodGet)
	r.HandleFunc("/portal/callback", h.getCallback).Methods(http.MethodGet)
	r.HandleFunc("/portal/logout", h.postLogout).Methods(http.MethodPost)

	get("/portal", h.getHome)
	get("/portal/switch", h.getSwitch)
	post("/portal/organizations", h.postCreateOrganization)
	get("/account/organizations", h.getAccountOrganizations)
	post("/account/organizations/{orgId}/leave", h.postLeave)

	// A tab's pages and forms need the tab's permission as well as
	// their own, so no page of a tab is open to whom the tab is hidden.
	org := func(path string, fn handlerFunc, perms ...string) {
		r.Handle("/portal/o/{slug}"+path, h.signedIn(h.inOrg(fn, perms...))).Methods(http.MethodGet, http.MethodHead)
	}
	orgPost := func(path string, fn handlerFunc, perms ...string) {
		r.Handle("/portal/o/{slug}"+path, h.signedIn(h.form(h.inOrg(fn, perms...)))).Methods(http.MethodPost)
	}
	org("", h.getOrgHome)
	for _, t := range h.tabs {
		for _, rt := range t.routes(h) {
			if rt.post {
				orgPost(rt.path, rt.fn, t.Perm, rt.perm)
			} else {
				org(rt.path, rt.fn, t.Perm, rt.perm)
			}
		}
	}
}

// path is the absolute path of a tenant page, rel starting with "/".
func (h *Handler) path(tenantID, rel string) string {
	return h.basePath + "/t/" + url.PathEscape(tenantID) + rel
}

// orgPath is the absolute path of an organization's portal page.
func (h *Handler) orgPath(tenantID, slug, rel string) string {
	return h.path(tenantID, "/portal/o/"+url.PathEscape(slug)+rel)
}
