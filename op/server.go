package op

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/storage"
)

// server is the zop.Server orgid serves: the library's LegacyServer with
// orgid's overrides. Methods not overridden here run the library's code.
type server struct {
	*zop.LegacyServer
	p *Provider
}

var _ zop.ExtendedLegacyServer = (*server)(nil)

// VerifyAuthRequest adds the exact redirect-URI match (OIDC Core §3.1.2.1,
// RFC 9700 §2.1) to the library's checks: without it, a native client
// would get RFC 8252's any-port loopback matching. The error is rendered,
// never redirected, because the URI is not trusted.
func (s *server) VerifyAuthRequest(ctx context.Context, r *zop.Request[oidc.AuthRequest]) (*zop.ClientRequest[oidc.AuthRequest], error) {
	cr, err := s.LegacyServer.VerifyAuthRequest(ctx, r)
	if err != nil {
		return nil, keepUnavailable(err)
	}
	// The client is known (not yet authenticated: authorize requests
	// carry no credentials); the access line names it.
	httpx.RequestInfo(ctx).SetClientID(cr.Client.GetID())
	if r.Data.RedirectURI != "" && !slices.Contains(cr.Client.RedirectURIs(), r.Data.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	return cr, nil
}

// Authorize stores the request and sends the browser to the login pages,
// as the library's does, but with the raw form: orgid reads
// organization= (DESIGN §3) and resource (RFC 8707), which the library's
// AuthRequest does not carry.
func (s *server) Authorize(ctx context.Context, r *zop.ClientRequest[oidc.AuthRequest]) (*zop.Redirect, error) {
	if _, err := zop.ValidateAuthReqIDTokenHint(ctx, r.Data.IDTokenHint, s.Provider().IDTokenHintVerifier(ctx)); err != nil {
		return nil, err
	}
	if r.Data.RequestParam != "" {
		return nil, oidc.ErrRequestNotSupported()
	}
	ar, err := s.p.createAuthRequest(ctx, r.Data, r.Form)
	if err != nil {
		return zop.TryErrorRedirect(ctx, r.Data, err, s.Provider().Encoder(), nil)
	}
	return zop.NewRedirect(r.Client.LoginURL(ar.ID)), nil
}

// VerifyClient authenticates the client at the token, introspection and
// revocation endpoints with one cached lookup: private_key_jwt for an
// application with a JWKS (and nothing else for it), client_secret_basic
// or client_secret_post for other confidential clients, client_id alone
// for public ones. Every failure is 401 invalid_client; until the client
// has proved who it is, all have one description, so that unknown clients
// and wrong credentials look alike (RFC 6749 §5.2).
//
// For client credentials with organization_id, the lookup is the one
// that also says what the client is in that organization (appAccess), so
// that the whole token request costs at most one read of the store.
func (s *server) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	p := s.p
	tenant := tenantID(ctx)
	cc := r.Data
	clientID := cc.ClientID
	var assertion *clientAssertion
	if cc.ClientAssertion != "" {
		// The library has checked client_assertion_type already.
		a, err := parseClientAssertion(cc.ClientAssertion)
		if err != nil || clientID != "" && clientID != a.clientID {
			return nil, clientError("client authentication failed")
		}
		assertion, clientID = a, a.clientID
	}
	c, err := p.authClient(ctx, tenant, clientID, r.Form)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, clientError("client authentication failed")
	}
	if err != nil {
		return nil, p.oauthError(ctx, err, "load client")
	}
	switch {
	case len(c.app.JWKS) > 0:
		// RFC 7523 §2.2; a client with keys never falls back to a secret.
		if assertion == nil {
			return nil, clientError("client authentication failed")
		}
		if err := p.verifyClientAssertion(ctx, tenant, c, assertion, p.assertionAudiences(tenant)); err != nil {
			return nil, err
		}
	case assertion != nil:
		return nil, clientError("client authentication failed")
	case c.app.Type.Public():
		if cc.ClientSecret != "" {
			return nil, clientError("client authentication failed")
		}
	case !c.checkSecret(cc.ClientSecret):
		return nil, clientError("client authentication failed")
	}
	// Only an authenticated client is named in the access line: a
	// client_id that failed may be anything, a pasted secret included.
	httpx.RequestInfo(ctx).SetClientID(c.GetID())
	return c, nil
}

// authClient loads the client of a token, introspection or revocation
// request. For client credentials with organization_id it asks for the
// client's access in that organization first, which carries the
// application too; only when there is none does it read the client alone.
func (p *Provider) authClient(ctx context.Context, tenant, clientID string, form url.Values) (*client, error) {
	orgID := form.Get("organization_id")
	if clientID == "" || orgID == "" || oidc.GrantType(form.Get("grant_type")) != oidc.GrantTypeClientCredentials {
		return p.client(ctx, clientID)
	}
	a, err := p.access.Get(ctx, accessKey{tenant, orgID, clientID})
	if err == nil && a.Application.ClientID == clientID {
		c := p.newClient(tenant, a.Application)
		c.org = &orgLookup{orgID: orgID, access: a}
		return c, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	// Not linked, or no such organization or client: authenticate the
	// client alone; the grant then refuses the organization.
	c, err := p.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	c.org = &orgLookup{orgID: orgID, err: errOrgDenied()}
	return c, nil
}

// Discovery publishes what orgid really supports (OIDC Discovery §3).
func (s *server) Discovery(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	resp, err := s.LegacyServer.Discovery(ctx, r)
	if err != nil {
		return nil, err
	}
	d := resp.Data.(*oidc.DiscoveryConfiguration)
	d.ScopesSupported = supportedScopes
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFragment), string(oidc.ResponseModeFormPost)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange, oidc.GrantTypeBearer}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	// Every endpoint that authenticates clients goes through VerifyClient,
	// so each takes private_key_jwt with the same algorithms.
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT, oidc.AuthMethodNone}
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT, oidc.AuthMethodNone}
	d.TokenEndpointAuthSigningAlgValuesSupported = clientAuthAlgs()
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = clientAuthAlgs()
	d.RevocationEndpointAuthSigningAlgValuesSupported = clientAuthAlgs()
	d.ClaimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "name", "email", "email_verified", "updated_at",
		"organizations", "organization_roles", "organization_data", "organization_id"}
	d.ACRValuesSupported = supportedACRs
	d.RequestURIParameterSupported = false
	d.RequestParameterSupported = false
	resp.Header.Set("Cache-Control", "public, max-age=300")
	return resp, nil
}

// Keys serves the tenant's JWKS: next, active and still-needed retired
// keys. Caching is safe for minutes because a key is published a whole
// rotation before it signs.
func (s *server) Keys(ctx context.Context, r *zop.Request[struct{}]) (*zop.Response, error) {
	set, err := s.p.cfg.Keys.KeySet(ctx, tenantID(ctx))
	if err != nil {
		return nil, s.p.oauthError(ctx, err, "load key set")
	}
	resp := zop.NewResponse(set)
	resp.Header.Set("Cache-Control", "public, max-age=300")
	return resp, nil
}
