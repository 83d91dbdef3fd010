package op

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

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
		return nil, err
	}
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
// revocation endpoints with one cached lookup: client_secret_basic or
// client_secret_post for confidential clients, client_id alone for public
// ones. Every failure is 401 invalid_client with one description, so
// unknown clients and wrong secrets look alike (RFC 6749 §5.2).
func (s *server) VerifyClient(ctx context.Context, r *zop.Request[zop.ClientCredentials]) (zop.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" {
		return nil, clientError("client assertions are not supported")
	}
	c, err := s.p.client(ctx, cc.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, clientError("client authentication failed")
	}
	if err != nil {
		return nil, s.p.oauthError(ctx, err, "load client")
	}
	if c.app.Type.Public() {
		if cc.ClientSecret != "" {
			return nil, clientError("client authentication failed")
		}
		return c, nil
	}
	if !c.checkSecret(cc.ClientSecret) {
		return nil, clientError("client authentication failed")
	}
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
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange}
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.ClaimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "name", "email", "email_verified", "updated_at",
		"organizations", "organization_roles", "organization_data", "organization_id"}
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

// JWTProfile (RFC 7523) is not offered: the identity-token grant that will
// use urn:ietf:params:oauth:grant-type:jwt-bearer is orgid's own.
func (s *server) JWTProfile(context.Context, *zop.Request[oidc.JWTProfileGrantRequest]) (*zop.Response, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("jwt-bearer grant is not supported")
}
