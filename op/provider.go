package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/ttlcache"
	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// Config wires the provider to its stores and keys.
type Config struct {
	// ExternalURL is the public base; issuers are ExternalURL + "/t/" + tenant.
	ExternalURL string
	Store       storage.Store
	State       storage.State
	Keys        *keys.Manager
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	CodeTTL         time.Duration
	AuthRequestTTL  time.Duration
	// ClientCacheTTL is how long a replica trusts what it loaded about an
	// application: the client, and its links to organizations (default
	// 1s), and authentication keys looked up by kid. It bounds how long
	// a deleted application, a rotated secret, an unlink, a role change or
	// a key revoked on another replica takes to hold on every replica.
	ClientCacheTTL time.Duration
	// IDTokenMaxOrgs is the most organizations an ID token lists; beyond,
	// it names userinfo as their source (default 50).
	IDTokenMaxOrgs int
	// AccessTokenAlg signs access tokens; default ES256.
	AccessTokenAlg string
	// CryptoKey is required by zitadel's provider constructor; orgid never
	// issues the library's encrypted opaque tokens, but the key must still
	// be secret. Derive it from the master key.
	CryptoKey [32]byte
	Logger    *slog.Logger
	// TokenRateClient and TokenRateIP limit token requests per client and
	// per client IP address of a tenant (op/limits.go); zero is no limit.
	TokenRateClient, TokenRateIP RateLimit
	// Metrics, when set, is told of tokens issued and cache lookups
	// (internal/metrics implements it; op does not import it).
	Metrics Metrics
	// Usage, when set, is told of every token issued, for billing
	// (internal/usage's Recorder); nil counts nothing.
	Usage Usage
}

// Usage counts tokens for billing. Token is called on the token path, so
// it must be cheap and do no I/O. orgID is the organization in whose
// context the token was issued ("" for none); userID is "" for a
// machine-to-machine token.
type Usage interface {
	Token(tenant, orgID, clientID, userID string, at time.Time)
}

// noUsage stands in when Config.Usage is nil.
type noUsage struct{}

func (noUsage) Token(string, string, string, string, time.Time) {}

// Metrics is what the provider reports to the process's metrics.
type Metrics interface {
	// TokenIssued counts one successful token response; kind is
	// "user", "organization" or "m2m".
	TokenIssued(tenant, grantType, kind string)
	// CacheLookup counts one lookup in a named cache.
	CacheLookup(cache string, hit bool)
}

// noMetrics stands in when Config.Metrics is nil.
type noMetrics struct{}

func (noMetrics) TokenIssued(string, string, string) {}
func (noMetrics) CacheLookup(string, bool)           {}

// Token kinds, the kind label of the tokens-issued metric.
const (
	kindUser         = "user"
	kindOrganization = "organization"
	kindM2M          = "m2m"
)

// observeCache has the cache named name report its lookups.
func observeCache(m Metrics, name string) func(bool) {
	return func(hit bool) { m.CacheLookup(name, hit) }
}

// Provider serves the OpenID Provider endpoints of every tenant.
type Provider struct {
	cfg Config
	now func() time.Time
	log *slog.Logger
	// clients keeps loaded applications briefly, keyed by (tenant, client
	// ID), so the token endpoint does not read the client on every request.
	clients *ttlcache.Cache[[2]string, storage.Application]
	// access keeps what m2m applications are in organizations, for
	// client credentials organization tokens.
	access *ttlcache.Cache[accessKey, storage.ApplicationAccess]
	// authKeys keeps authentication keys looked up by kid, with their
	// organization, keyed by (tenant, kid), for the identity token grant.
	authKeys *ttlcache.Cache[[2]string, authKeyEntry]
	zp       *zop.Provider
	handler  http.Handler
	limiter  limiter
	metrics  Metrics
	usage    Usage
}

// Endpoint paths under the issuer. Clients find them through discovery.
var endpoints = zop.Endpoints{
	Authorization: zop.NewEndpoint("authorize"),
	Token:         zop.NewEndpoint("oauth/token"),
	Introspection: zop.NewEndpoint("oauth/introspect"),
	Revocation:    zop.NewEndpoint("oauth/revoke"),
	Userinfo:      zop.NewEndpoint("userinfo"),
	EndSession:    zop.NewEndpoint("end_session"),
	JwksURI:       zop.NewEndpoint("jwks"),
}

// Paths returns every path the provider serves, relative to the issuer,
// so that the router can name each with a route template.
func Paths() []string {
	return []string{
		"/healthz", "/ready", oidc.DiscoveryEndpoint,
		endpoints.Authorization.Relative(), endpoints.Authorization.Relative() + "/callback",
		endpoints.Token.Relative(), endpoints.Introspection.Relative(), endpoints.Revocation.Relative(),
		endpoints.Userinfo.Relative(), endpoints.EndSession.Relative(), endpoints.JwksURI.Relative(),
		identityNoncesPath,
	}
}

// New builds the provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Store == nil || cfg.State.KV == nil || cfg.Keys == nil {
		return nil, errors.New("op: Store, State and Keys are required")
	}
	u, err := url.Parse(cfg.ExternalURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("op: ExternalURL must be an absolute URL")
	}
	cfg.ExternalURL = strings.TrimSuffix(cfg.ExternalURL, "/")
	if cfg.AccessTokenAlg == "" {
		cfg.AccessTokenAlg = "ES256"
	}
	if cfg.IDTokenMaxOrgs <= 0 {
		cfg.IDTokenMaxOrgs = 50
	}
	if cfg.ClientCacheTTL == 0 {
		// One second, with no invalidation messages between replicas: a
		// change made anywhere holds everywhere within a second (the m2m
		// contract of issue 5), while a busy client still costs its
		// replica one read a second, not one a request.
		cfg.ClientCacheTTL = time.Second
	}
	p := &Provider{cfg: cfg, now: cfg.Now, log: cfg.Logger, metrics: cfg.Metrics}
	p.limiter.client, p.limiter.ip = cfg.TokenRateClient, cfg.TokenRateIP
	if p.metrics == nil {
		p.metrics = noMetrics{}
	}
	if p.usage = cfg.Usage; p.usage == nil {
		p.usage = noUsage{}
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.clients = ttlcache.New(cfg.ClientCacheTTL, p.now, func(ctx context.Context, k [2]string) (storage.Application, error) {
		return cfg.Store.GetApplication(ctx, k[0], k[1])
	}).Observe(observeCache(p.metrics, "client"))
	p.access = newAccessCache(cfg.ClientCacheTTL, p.now, cfg.Store).Observe(observeCache(p.metrics, "application_access"))
	p.authKeys = ttlcache.New(cfg.ClientCacheTTL, p.now, func(ctx context.Context, k [2]string) (authKeyEntry, error) {
		key, org, err := cfg.Store.GetAuthKey(ctx, k[0], k[1])
		return authKeyEntry{key: key, org: org}, err
	}).Observe(observeCache(p.metrics, "auth_key"))

	// ID tokens of every algorithm orgid signs are accepted as id_token_hint.
	opts := []zop.Option{zop.WithIDTokenHintVerifierOpts(zop.WithSupportedIDTokenHintSigningAlgorithms(idTokenAlgs...))}
	if u.Scheme == "http" {
		opts = append(opts, zop.WithAllowInsecure())
	}
	zp, err := zop.NewProvider(&zop.Config{
		CryptoKey:                cfg.CryptoKey,
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          supportedScopes,
	}, &adapter{p: p}, func(bool) (zop.IssuerFromRequest, error) {
		return func(r *http.Request) string { return p.issuerFromContext(r.Context()) }, nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	p.zp = zp
	srv := &server{LegacyServer: zop.NewLegacyServer(zp, endpoints), p: p}
	// Nothing at these endpoints uses cookies across origins: browsers
	// of single-page apps call token, userinfo, revocation and identity
	// nonces with bearer or client credentials, so credentials are not
	// allowed in CORS.
	corsOpts := cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept"},
		AllowCredentials: false,
	}
	lib := zop.RegisterLegacyServer(srv, p.callback, zop.WithServerCORSOptions(&corsOpts))
	nonces := cors.New(corsOpts).Handler(http.HandlerFunc(srv.identityNonces))
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == identityNoncesPath {
			nonces.ServeHTTP(w, r)
			return
		}
		lib.ServeHTTP(w, r)
	})
	return p, nil
}

// Handler serves the provider's endpoints. It expects the tenant in the
// request context (httpx.WithTenant) and the request path relative to the
// issuer, i.e. with /t/{tenant} stripped.
func (p *Provider) Handler() http.Handler { return protocolHeaders(p.limits(p.handler)) }

// Issuer returns the issuer of a tenant.
func (p *Provider) Issuer(tenantID string) string {
	return p.cfg.ExternalURL + "/t/" + tenantID
}

func (p *Provider) issuerFromContext(ctx context.Context) string {
	t, _ := httpx.Tenant(ctx)
	return p.Issuer(t.ID)
}

// CallbackURL is where the login pages send the browser once an auth
// request is done; it answers the client with a code or an error.
func (p *Provider) CallbackURL(_ context.Context, tenantID, authRequestID string) string {
	return p.Issuer(tenantID) + callbackPath + "?id=" + url.QueryEscape(authRequestID)
}

const (
	callbackPath  = "/authorize/callback"
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// tenantID returns the request's tenant. Every provider route runs behind
// the tenant middleware, so a missing tenant is a wiring bug.
func tenantID(ctx context.Context) string {
	t, _ := httpx.Tenant(ctx)
	return t.ID
}
