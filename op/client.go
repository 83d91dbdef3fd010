package op

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Scopes orgid knows beyond OIDC's own.
const (
	ScopeOrganizations     = "organizations"
	ScopeOrganizationRoles = "organization_roles"
)

var supportedScopes = []string{
	oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess,
	ScopeOrganizations, ScopeOrganizationRoles,
}

// client adapts a stored application to zop.Client.
type client struct {
	app      storage.Application
	loginURL string // issuer + "/login?authRequestID="
	idTTL    time.Duration
	// org, for a client credentials request with organization_id, is
	// what VerifyClient learned about the client in that organization
	// while loading it, so the grant does not read the store again.
	org *orgLookup
}

// orgLookup is the answer of appAccess for one organization.
type orgLookup struct {
	orgID  string
	access storage.ApplicationAccess
	err    error
}

var _ zop.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.app.ClientID }
func (c *client) RedirectURIs() []string           { return c.app.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.app.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string        { return c.loginURL + url.QueryEscape(id) }
func (c *client) AccessTokenType() zop.AccessTokenType {
	return zop.AccessTokenTypeJWT
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTTL }
func (c *client) ClockSkew() time.Duration       { return 0 }

// ApplicationType only steers the library's redirect-URI policy. Native
// apps keep their custom schemes and loopback URIs; everything else is
// "web". Port-agnostic loopback matching (RFC 8252 §7.3) never happens,
// because VerifyAuthRequest has already required an exact match.
func (c *client) ApplicationType() zop.ApplicationType {
	if c.app.Type == storage.AppNative {
		return zop.ApplicationTypeNative
	}
	return zop.ApplicationTypeWeb
}

// DevMode lets the library accept any redirect URI that matched exactly:
// the scheme policy (https, http only on loopback, custom schemes only for
// native apps) is enforced when an application is registered
// (storage.Application.Validate), not at every request.
func (c *client) DevMode() bool { return true }

func (c *client) AuthMethod() oidc.AuthMethod {
	switch {
	case len(c.app.JWKS) > 0:
		return oidc.AuthMethodPrivateKeyJWT
	case c.app.Type.Public():
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // client_secret_post is accepted too
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.app.Type == storage.AppM2M {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes are the grants each kind of application may use (DESIGN §1);
// the library answers any other with 400 unauthorized_client (RFC 6749
// §5.2) once the client is authenticated. Applications acting for users
// (web, and spa and native with PKCE, which createAuthRequest requires)
// use the code, its refresh tokens, token exchange and identity tokens
// (the jwt-bearer grant, DESIGN §3); m2m applications
// act for themselves with client credentials only.
func (c *client) GrantTypes() []oidc.GrantType {
	switch c.app.Type {
	case storage.AppWeb, storage.AppSPA, storage.AppNative:
		return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeTokenExchange, oidc.GrantTypeBearer}
	case storage.AppM2M:
		return []oidc.GrantType{oidc.GrantTypeClientCredentials}
	}
	return nil
}

// mayUseOrganization: an application owned by an organization acts only
// in that organization (storage.Application.OrganizationID). Any other
// organization gets the refusal of an organization the subject is not in.
func (c *client) mayUseOrganization(orgID string) error {
	if c.app.OrganizationID != "" && orgID != c.app.OrganizationID {
		return errOrgDenied()
	}
	return nil
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits orgid's own scopes and permission names (which
// contain a colon, like read:invoices) for organization tokens; the
// library drops any other scope it does not know.
func (c *client) IsScopeAllowed(scope string) bool {
	return slices.Contains(supportedScopes, scope) || strings.Contains(scope, ":")
}

// IDTokenUserinfoClaimsAssertion: profile and email claims go into the ID
// token as well as userinfo, as Auth0 and Logto do.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

// idTokenAlg is the algorithm of this client's ID tokens (RS256 unless chosen).
func (c *client) idTokenAlg() string {
	if c.app.IDTokenAlg != "" {
		return c.app.IDTokenAlg
	}
	return "RS256"
}

// checkSecret compares a presented secret with the stored hash in constant time.
func (c *client) checkSecret(secret string) bool {
	return len(c.app.SecretHash) > 0 && secure.Equal(secure.Hash(secret), c.app.SecretHash)
}

// client loads the request tenant's client as a zop.Client.
func (p *Provider) client(ctx context.Context, clientID string) (*client, error) {
	t := tenantID(ctx)
	app, err := p.clients.Get(ctx, [2]string{t, clientID})
	if err != nil {
		return nil, err
	}
	return p.newClient(t, app), nil
}

func (p *Provider) newClient(tenant string, app storage.Application) *client {
	return &client{app: app, loginURL: p.Issuer(tenant) + loginPath + "?authRequestID=", idTTL: p.cfg.IDTokenTTL}
}

// ForgetClient drops a cached client and its cached links, so that a
// change made through this replica (an application deleted, its secret
// rotated) holds here at once; other replicas see it within ClientCacheTTL.
func (p *Provider) ForgetClient(tenantID, clientID string) {
	p.clients.Forget([2]string{tenantID, clientID})
	p.access.ForgetFunc(func(k accessKey) bool { return k.tenant == tenantID && k.client == clientID })
}
