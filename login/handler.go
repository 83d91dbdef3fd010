package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/password"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

// Flow is the narrow view of the OIDC side that login needs.
type Flow interface {
	// CallbackURL is where the browser goes once the auth request is done or failed.
	CallbackURL(ctx context.Context, tenantID, authRequestID string) string
}

// Config configures a Handler. Store, State.KV, Flow, ExternalURL,
// CSRFKey, Sealer and Mail are required; the rest have defaults.
type Config struct {
	Store storage.Store
	State storage.State
	Flow  Flow
	// ExternalURL is the public base URL. With https, cookies are Secure
	// and carry the __Host- prefix.
	ExternalURL string
	// CSRFKey signs form tokens: at least 32 bytes, derived by the caller
	// from the master key.
	CSRFKey []byte
	// Sealer seals TOTP secrets at rest and keys the recovery-code hashes
	// (the master key's *keys.Sealer).
	Sealer Sealer
	// Mail queues the messages the pages send (verification, password
	// reset) in the durable outbox, inside the transaction of their change.
	Mail *mail.Outbox
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// AuthRequestTTL is how long a completed auth request waits for the
	// OIDC side (default 30 minutes).
	AuthRequestTTL time.Duration
	// SessionTTL is the absolute lifetime of a sign-in session (default 7 days).
	SessionTTL time.Duration
	// MaxFailuresPerAccount is how many failed sign-ins per window one
	// (tenant, email) may have before sign-in is refused (default 10).
	MaxFailuresPerAccount int
	// MaxFailuresPerIP is the same per (tenant, client IP) (default 100).
	MaxFailuresPerIP int
	// FailureWindow is the fixed window of both limits (default 15 minutes).
	FailureWindow time.Duration
	// Logger receives internal errors; slog.Default() when nil.
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultAuthRequestTTL        = 30 * time.Minute
	DefaultSessionTTL            = 7 * 24 * time.Hour
	DefaultMaxFailuresPerAccount = 10
	DefaultMaxFailuresPerIP      = 100
	DefaultFailureWindow         = 15 * time.Minute
)

// Handler serves the login pages of every tenant.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	external string // ExternalURL without a trailing slash
	secure   bool   // ExternalURL is https
	basePath string // path of ExternalURL, without a trailing slash
	csrf     ui.CSRF
	pages    *pages
	// dummyHash is verified for unknown emails so that they cost as much
	// as a wrong password and timing does not reveal who has an account.
	dummyHash string
	// recoveryKey keys the hashes of recovery codes (internal/mfa).
	recoveryKey []byte
}

// New checks cfg, fills in defaults and returns a Handler.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("login: Config.Store is required")
	case cfg.State.KV == nil:
		return nil, errors.New("login: Config.State is required")
	case cfg.Flow == nil:
		return nil, errors.New("login: Config.Flow is required")
	case len(cfg.CSRFKey) < 32:
		return nil, errors.New("login: Config.CSRFKey must be at least 32 bytes")
	case cfg.Sealer == nil:
		return nil, errors.New("login: Config.Sealer is required")
	case cfg.Mail == nil:
		return nil, errors.New("login: Config.Mail is required")
	}
	u, err := ui.ExternalURL(cfg.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("login: Config.ExternalURL %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthRequestTTL <= 0 {
		cfg.AuthRequestTTL = DefaultAuthRequestTTL
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxFailuresPerAccount <= 0 {
		cfg.MaxFailuresPerAccount = DefaultMaxFailuresPerAccount
	}
	if cfg.MaxFailuresPerIP <= 0 {
		cfg.MaxFailuresPerIP = DefaultMaxFailuresPerIP
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = DefaultFailureWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	dummy, err := dummyHash()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:       cfg,
		log:       cfg.Logger,
		external:  strings.TrimSuffix(cfg.ExternalURL, "/"),
		secure:    u.Scheme == "https",
		basePath:  strings.TrimSuffix(u.Path, "/"),
		pages:     pg,
		dummyHash: dummy,

		recoveryKey: cfg.Sealer.DeriveKey(recoveryKeyPurpose),
	}
	h.csrf = ui.NewCSRF(cfg.CSRFKey, h.secure)
	return h, nil
}

// dummyHash is a hash of a random password with the current parameters,
// made once per process.
var dummyHash = sync.OnceValues(func() (string, error) { return password.Hash(secure.Token()) })

// Register adds the login routes to r, the subrouter of /t/{tenant} whose
// middleware has already put the tenant into the request context.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/login", h.getLogin).Methods(http.MethodGet)
	r.HandleFunc("/login", h.postLogin).Methods(http.MethodPost)
	r.HandleFunc("/signup", h.getSignup).Methods(http.MethodGet)
	r.HandleFunc("/signup", h.postSignup).Methods(http.MethodPost)
	r.HandleFunc("/logged-out", h.getLoggedOut).Methods(http.MethodGet)
	r.HandleFunc("/mfa", h.getMFA).Methods(http.MethodGet)
	r.HandleFunc("/mfa", h.postMFA).Methods(http.MethodPost)
	r.HandleFunc("/recovery-code", h.getRecovery).Methods(http.MethodGet)
	r.HandleFunc("/recovery-code", h.postRecovery).Methods(http.MethodPost)
	r.HandleFunc("/account", h.getProfile).Methods(http.MethodGet)
	r.HandleFunc("/account/name", h.postName).Methods(http.MethodPost)
	r.HandleFunc("/account/email", h.postEmail).Methods(http.MethodPost)
	r.HandleFunc("/account/email/cancel", h.postEmailCancel).Methods(http.MethodPost)
	r.HandleFunc("/account/email/confirm", h.getEmailConfirm).Methods(http.MethodGet)
	r.HandleFunc("/account/security/password", h.postPassword).Methods(http.MethodPost)
	r.HandleFunc("/account/security/sessions", h.postSignOutOthers).Methods(http.MethodPost)
	r.HandleFunc("/account/security/recovery-codes", h.getRecoveryCodes).Methods(http.MethodGet)
	r.HandleFunc("/account/security/recovery-codes", h.postRecoveryCodes).Methods(http.MethodPost)
	r.HandleFunc("/account/security", h.getSecurity).Methods(http.MethodGet)
	r.HandleFunc("/account/security", h.postSecurity).Methods(http.MethodPost)
	r.HandleFunc("/account/security/totp.png", h.getTOTPImage).Methods(http.MethodGet)
	r.HandleFunc("/verify-email", h.getVerifyEmail).Methods(http.MethodGet)
	r.HandleFunc("/verify-email/resend", h.postVerifyResend).Methods(http.MethodPost)
	r.HandleFunc("/password-reset", h.getPasswordReset).Methods(http.MethodGet)
	r.HandleFunc("/password-reset", h.postPasswordReset).Methods(http.MethodPost)
	r.HandleFunc("/password-reset/new", h.getNewPassword).Methods(http.MethodGet)
	r.HandleFunc("/password-reset/new", h.postNewPassword).Methods(http.MethodPost)
	r.HandleFunc("/invitation", h.getInvitation).Methods(http.MethodGet)
	r.HandleFunc("/invitation", h.postInvitation).Methods(http.MethodPost)
}

// Assets returns the static files of the pages (style sheet, logo), to be
// mounted by the caller at /assets/ under the external URL's path.
func (h *Handler) Assets() http.Handler { return ui.AssetHandler() }

// pageURL is the absolute URL of one of this package's pages for an auth
// request, built from the external URL so that it is right behind a proxy.
func (h *Handler) pageURL(tenantID, page, authRequestID string) string {
	return h.external + "/t/" + url.PathEscape(tenantID) + "/" + page + "?authRequestID=" + url.QueryEscape(authRequestID)
}

// localPath is the absolute path of one of this package's pages, for
// form actions: pages live at different depths (/password-reset/new), so
// relative actions would not all resolve alike.
func (h *Handler) localPath(tenantID, page string) string {
	return h.basePath + "/t/" + url.PathEscape(tenantID) + "/" + page
}

// tenantURL is the absolute URL of page under the external URL, with
// rawQuery (already encoded) when not empty: for links in mail and on
// pages.
func (h *Handler) tenantURL(tenantID, page, rawQuery string) string {
	u := h.external + "/t/" + url.PathEscape(tenantID) + "/" + page
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}
